"""New classes without retraining, on Glyphs-LT: enrol held-out classes from k images each.

    python benchmarks/bench_enroll.py --seeds 0 1 2          # k = 1 5 10

Per seed, through the real tools in subprocesses (``tools/train.py``, ``tools/test.py``,
``tools/enroll_classes.py``) on the Glyphs-LT data of ``bench_methods.py`` (built there if
missing):

* 50 classes (``--new``) are drawn by the seed among those with at least ``max(k)`` training
  images and held out of training; the other 950 are relabelled 0..949, the new ones
  950..999 (list files in the work dir, so every tool reads the usual AliProducts layout);
* stage 1 (the config's full schedule) and cRT on the 950 old classes;
* for each k, ``tools/enroll_classes.py`` appends the 50 new classes to the cRT (``--base
  stage1``: the stage-1) checkpoint
  from k training-font images each (drawn by the seed), and ``tools/test.py`` scores the grown
  1,000-way model on the whole validation split (held-out fonts, old and new classes alike);
* the reference: the same 50 classes in the 1,000-class cRT (or stage-1) model of
  ``bench_methods.py``'s
  seed, which was trained on all their training images (read from its per-class CSV; "not
  measured" if that run has not finished).

Prints accuracy on the new classes, on the old classes (and its change from the 950-way cRT
model on the same old-class images), for each k, as mean ± sd over the seeds that finished.
"""
import argparse
import csv
import json
import os
import os.path as osp
import sys
from typing import Dict, List

import numpy as np

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
from bench_methods import ROOT, TOOLS, Bench, mean_std  # noqa: E402


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Enrol held-out Glyphs-LT classes')
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2],
                        help='seeds (default: 0 1 2)')
    parser.add_argument('--ks', type=int, nargs='+', default=[1, 5, 10],
                        help='images per new class (default: 1 5 10)')
    parser.add_argument('--new', type=int, default=50, help='classes held out (default: 50)')
    parser.add_argument('--base', choices=['crt', 'stage1'], default='crt',
                        help='model the classes are enrolled into (default: crt)')
    parser.add_argument('--work-dir', default=osp.join(ROOT, 'work_dirs', 'bench_enroll'),
                        help='(default: work_dirs/bench_enroll)')
    return parser.parse_args()


def read_json_list(path: str) -> List[tuple]:
    with open(path) as f:
        return [(e['class_id'], e['image_id']) for e in json.load(f)['images']]


def split_classes(data: str, seed: int, new: int, min_images: int, out: str) -> Dict:
    """Write the relabelled list files of one seed; return the old and new class ids."""
    train, val = read_json_list(osp.join(data, 'train.json')), read_json_list(
        osp.join(data, 'val.json'))
    ids = sorted({c for c, _ in train} | {c for c, _ in val})
    counts = {c: 0 for c in ids}
    for c, _ in train:
        counts[c] += 1
    eligible = [c for c in ids if counts[c] >= min_images]
    rng = np.random.default_rng(seed)
    new_ids = sorted(rng.choice(eligible, size=new, replace=False).tolist())
    old_ids = [c for c in ids if c not in set(new_ids)]
    label = {c: i for i, c in enumerate(old_ids + new_ids)}
    os.makedirs(out, exist_ok=True)

    def write(name, entries):
        with open(osp.join(out, name), 'w') as f:
            f.writelines(f'{c}/{i} {label[c]}\n' for c, i in entries)

    old = set(old_ids)
    write('train_old.txt', [e for e in train if e[0] in old])
    write('val_old.txt', [e for e in val if e[0] in old])
    write('val_all.txt', val)
    pool = {c: [i for cc, i in train if cc == c] for c in new_ids}
    return dict(old=old_ids, new=new_ids, label=label, pool=pool, train_counts=counts)


def write_enroll_list(split: Dict, data: str, k: int, seed: int, path: str) -> None:
    """``path class_id`` lines: k training images of each new class, ids ``label:05d``."""
    rng = np.random.default_rng(1000 + seed)
    with open(path, 'w') as f:
        for c in split['new']:
            for img in rng.choice(split['pool'][c], size=k, replace=False):
                f.write(f'{osp.join(data, "train", c, img)} {split["label"][c]:05d}\n')


def per_class_acc(csv_path: str) -> Dict[str, float]:
    with open(csv_path) as f:
        return {r['class_id']: float(r['top1_acc']) for r in csv.DictReader(f) if r['top1_acc']}


def run_seed(bench: Bench, args: argparse.Namespace, seed: int) -> Dict:
    w = osp.join(args.work_dir, f'seed{seed}')
    split = split_classes(bench.data, seed, args.new, max(args.ks), w)
    n_old, n_all = len(split['old']), len(split['old']) + len(split['new'])
    bench.current_seed = seed

    def opts(n, val):
        return [f'model.head.num_classes={n}', f'data_preprocessor.num_classes={n}',
                *[f'{s}_dataloader.dataset.num_classes={n}' for s in ('train', 'val', 'test')],
                *[f'{s}_dataloader.dataset.ann_file={w}/{val}' for s in ('val', 'test')],
                f'train_dataloader.dataset.ann_file={w}/train_old.txt']

    s1 = bench.train('stage1', 'stage1', f'{w}/stage1', seed, bench.e1,
                     extra=bench.stage1_opts() + opts(n_old, 'val_old.txt'))
    base = s1 if args.base == 'stage1' else bench.train(
        'crt', 'crt', f'{w}/crt', seed, bench.e2, load=s1,
        extra=[f'param_scheduler.T_max={bench.e2}'] + opts(n_old, 'val_old.txt'))
    cfg, tag = bench.cfg[args.base], args.base
    before = test(bench, cfg, base, f'{w}/{tag}_eval', opts(n_old, 'val_old.txt'))
    res = dict(old_before=float(np.mean([before[c] for c in _names(range(n_old))])))
    new_names = _names(range(n_old, n_all))
    for k in args.ks:
        lst, grown = f'{w}/enroll_k{k}.txt', f'{w}/{tag}_grown_k{k}.pth'
        write_enroll_list(split, bench.data, k, seed, lst)
        bench.run(f'enroll_k{k}', [osp.join(TOOLS, 'enroll_classes.py'), cfg, base,
                                   '--images', lst, '--out', grown, '--cfg-options',
                                   *bench.data_opts(), *opts(n_old, 'val_old.txt')],
                  f'{w}/{tag}_enroll_k{k}.log', grown)
        acc = test(bench, cfg, grown, f'{w}/{tag}_grown_k{k}_eval', opts(n_all, 'val_all.txt'))
        res[f'k{k}'] = dict(new=float(np.mean([acc[c] for c in new_names])),
                            old=float(np.mean([acc[c] for c in _names(range(n_old))])))
    ref = osp.join(bench.work, f'seed{seed}', f'{tag}_eval_per_class.csv')
    if osp.isfile(ref):
        full = per_class_acc(ref)
        res['trained_on'] = float(np.mean([full[c] for c in split['new']]))
    return res


def _names(labels) -> List[str]:
    return [f'{i:05d}' for i in labels]


def test(bench: Bench, cfg: str, ckpt: str, out: str, extra: List[str]) -> Dict[str, float]:
    bench.run_test('test', cfg, ckpt, out, extra)
    return per_class_acc(out + '_per_class.csv')


def main() -> None:
    args = parse_args()
    bench = Bench(argparse.Namespace(dataset='glyphs-lt', seeds=args.seeds, work_dir=None,
                                     stage1_epochs=None, stage2_epochs=None, noise=0,
                                     methods=None))
    bench.build_data()
    results = []
    for seed in args.seeds:
        results.append(run_seed(bench, args, seed))
        print(f'seed {seed}: {json.dumps(results[-1])}', flush=True)
        with open(osp.join(args.work_dir, f'results_{args.base}.json'), 'w') as f:
            json.dump(dict(seeds=args.seeds[:len(results)], results=results, cpu_s=bench.cpu),
                      f, indent=1)
    print(f'\n| Glyphs-LT, {args.new} new classes, seeds '
          f'{" ".join(map(str, args.seeds))} | new classes acc % | old classes acc % '
          '(change) |\n|---|---|---|')
    before = [r['old_before'] for r in results]
    name = dict(crt='cRT', stage1='stage 1')[args.base]
    print(f'| 950-way {name}, before enrolment | - | {mean_std(before)} |')
    for k in args.ks:
        change = [r[f'k{k}']['old'] - r['old_before'] for r in results]
        print(f'| enrolled from k = {k} | {mean_std([r[f"k{k}"]["new"] for r in results])} '
              f'| {mean_std([r[f"k{k}"]["old"] for r in results])} ({mean_std(change)}) |')
    trained = [r.get('trained_on') for r in results]
    print(f'| same classes trained on (1,000-way {name} of bench_methods) | '
          + (mean_std(trained) if any(t is not None for t in trained) else 'not measured')
          + ' | - |')


if __name__ == '__main__':
    main()
