"""What ``bench_train_speed.py`` prints: per batch size, and the labelled estimate."""
import os.path as osp

#: images in the head-capped AliProducts training set used for the estimate: the 2,500,001
#: entries / 50,030 classes of benchmarks/bench_dataset.py's AliProducts-scale annotation
#: (Zipf-like counts 5-8,000) capped at 250 per class; the real set's capped count may differ
CAPPED_TRAIN_IMAGES = 1_318_717
RECIPE_EPOCHS = 40 + 10
H200_BARE_BATCH64 = 1144.0  # README: bare step, batch 64, bf16, measured on one H200


def print_batch(args, batch: int, bare: dict, best: dict) -> None:
    """One batch size's rows: the bare step and the best of each runner, the CPU guard."""
    def rate(r):
        return args.iters * batch / r['seconds']

    print(f'\nbatch {batch}: {"":14s} {"img/s":>9s} {"ms/iter":>9s} {"x bare":>7s} '
          f'{"peak mem":>9s} {"syncs/iter (ours)":>18s} {"CUDA syncs/iter":>16s}')
    for label, r in [('bare step', bare)] + [(f'runner, {k}', v) for k, v in best.items()]:
        cuda = f'{r["cuda"]:.2f}' if r['cuda'] is not None else '-'
        syncs = '-' if args.compile else f'{r["syncs"]:.2f} ({r["ours"]:.2f})'
        print(f'  {label:22s} {rate(r):9.1f} {1000 * r["seconds"] / args.iters:9.2f} '
              f'{rate(r) / rate(bare):7.3f} {r["memory"]:>9s} '
              f'{syncs:>18s} {cuda:>16s}')
    if 'stock' in best:
        ratio = rate(best['ours']) / rate(best['stock'])
        print(f'  CPU guard: our runner / MMEngine stock parts = {ratio:.3f}x (>= 0.9x: '
              f'{"met" if ratio >= 0.9 else "MISSED"})')
    if 'ours' in best:
        origins = ', '.join(f'{o} x{n / args.iters:.2f}'
                            for o, n in best['ours']['origins'].items())
        print(f'  host reads per iteration in our runner, by origin: {origins}')


def print_estimate(args, rows, device_name: str) -> None:
    """The ESTIMATE table: recipe hours at the measured speeds (arithmetic, labelled so)."""
    images = args.train_images * RECIPE_EPOCHS
    print(f'\nESTIMATE (arithmetic, not a measurement): hours for the recipe ({RECIPE_EPOCHS} '
          f'epochs = 40 stage 1 + 10 stage 2) on {args.train_images:,} training images '
          '(bench_dataset.py\'s AliProducts-scale annotation capped at 250 per class), at the '
          'speeds above; 8 devices assume linear scaling (8x the img/s, not measured)')
    if 'resnest' not in osp.basename(args.config):
        print(f'  NOTE: measured on {osp.basename(args.config)}, not the recipe\'s ResNeSt-50: '
              'these rows only show the arithmetic')
    print(f'  {"from":48s} {"img/s":>9s} {"1 device":>10s} {"8 devices":>10s}')
    for batch, bare, best in rows:
        rate = args.iters * batch / best.get('ours', bare)['seconds']
        what = 'runner' if 'ours' in best else 'bare step'
        print(f'  {what + ", batch " + str(batch) + ", " + device_name:48s} {rate:9.1f} '
              f'{images / rate / 3600:9.1f}h {images / rate / 8 / 3600:9.1f}h')
    h200 = H200_BARE_BATCH64
    print(f'  {"README: H200 bare step, batch 64, bf16 (measured)":48s} {h200:9.1f} '
          f'{images / h200 / 3600:9.1f}h {images / h200 / 8 / 3600:9.1f}h')
