"""Stage 1 vs stage 2 of the demo recipe over several training seeds.

    python benchmarks/bench_demo_seeds.py --seeds 0 1 2

Each seed runs the whole ``make demo`` path (``tools/run_demo.py``: two-stage training, then
``tools/test.py`` on stage 1's last checkpoint and on the final one) on the same Digits-LT data,
and the script prints mean class accuracy and few-shot accuracy per seed and their mean.
About 2.5 minutes per seed on 2 cores.
"""
import argparse
import os.path as osp
import sys
import tempfile
import time

sys.path.insert(0, osp.join(osp.dirname(osp.dirname(osp.abspath(__file__))), 'tools'))

from run_demo import run_demo  # noqa: E402

METRICS = ('mean_class_acc', 'few_shot_acc', 'medium_shot_acc', 'many_shot_acc')


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Demo recipe over seeds')
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2],
                        help='training seeds (default: 0 1 2)')
    parser.add_argument('--work-dir', default=None,
                        help='keep the runs here (default: a temporary folder)')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    base = args.work_dir or tempfile.mkdtemp(prefix='bench_demo_seeds_')
    data_root = osp.join(base, 'digits_lt')
    rows = []
    for seed in args.seeds:
        start = time.time()
        res = run_demo(osp.join(base, f'seed{seed}'), data_root, seed=seed, quiet=True)
        rows.append((seed, res))
        print(f'seed {seed} done in {time.time() - start:.0f} s', flush=True)

    names = [f'{stage}/{m}' for m in METRICS[:2] for stage in ('stage1', 'stage2')]
    print('\nDigits-LT, imbalance ratio 40, 30 + 10 epochs; accuracies in %')
    print(f'{"seed":>6}' + ''.join(f'{n:>24}' for n in names))
    for seed, res in rows:
        print(f'{seed:>6}' + ''.join(
            f'{res[n.split("/")[0]][n.split("/")[1]]:>24.2f}' for n in names))
    means = {n: sum(r[n.split('/')[0]][n.split('/')[1]] for _, r in rows) / len(rows)
             for n in names}
    print(f'{"mean":>6}' + ''.join(f'{means[n]:>24.2f}' for n in names))
    gain = means['stage2/mean_class_acc'] - means['stage1/mean_class_acc']
    few = means['stage2/few_shot_acc'] - means['stage1/few_shot_acc']
    wins = sum(r['stage2']['mean_class_acc'] > r['stage1']['mean_class_acc'] for _, r in rows)
    print(f'stage 2 - stage 1: mean class accuracy {gain:+.2f} points, few-shot {few:+.2f} '
          f'points; stage 2 ahead in {wins}/{len(rows)} seeds -> '
          f'{"stage 2 ahead on average" if gain > 0 else "stage 2 NOT ahead on average"}')


if __name__ == '__main__':
    main()
