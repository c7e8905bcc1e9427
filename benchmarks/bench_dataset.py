"""Build-time, memory and ``get_gt_labels()`` cost of AliProductsDataset vs. CustomDataset.

Generates, in a temporary folder, an annotation at AliProducts scale (about 2.5M entries over
50,030 classes, Zipf-like per-class counts from 5 to 8,000, seeded) in the released JSON
schema and the same entries as an MMPretrain list file, then builds each loader in its own
fresh Python process and reports:

- build: wall time of the dataset constructor (``lazy_init=False``), i.e. load (+ cap);
- peak added: peak resident memory during the build minus the resident memory after imports
  (VmHWM is reset through /proc/self/clear_refs after the imports where the kernel allows);
- get_gt_labels: wall time of one call.

Neither loader checks that image files exist here (CustomDataset with an ``ann_file`` does
not, so ours runs with ``check_files='off'``); the cost of our default check is measured
separately on a smaller tree of real empty files and extrapolated.

Usage::

    python benchmarks/bench_dataset.py [--entries 2500000] [--check-entries 200000]
"""
import argparse
import json
import os
import os.path as osp
import subprocess
import sys
import tempfile
import time

import numpy as np

NUM_CLASSES = 50030
TARGET_TIME, TARGET_MEM, TARGET_LABELS_MS = 0.2, 0.25, 50.0
OURS = {
    'ours_json_cap250': ('train.json', 250),
    'ours_list_cap250': ('train.txt', 250),
    'ours_json_cap250_cache': ('train.json', 250)
}
NAMES = {
    'custom': 'CustomDataset (list file)',
    'ours_json_cap250': 'AliProductsDataset (JSON, cap 250)',
    'ours_list_cap250': 'AliProductsDataset (list file, cap 250)',
    'ours_json_cap250_cache': 'AliProductsDataset (JSON, cap 250), 2nd start, cache_index'
}


def zipf_counts(total: int, num_classes: int, lo: int = 5, hi: int = 8000) -> np.ndarray:
    """Zipf-like counts ``lo * (num_classes / r)**s`` for rank ``r``, clipped to ``[lo, hi]``;
    the exponent ``s`` is fitted so that the counts add up to about ``total``."""
    rel = num_classes / np.arange(1, num_classes + 1, dtype=np.float64)
    a, b = 0.01, 3.0
    for _ in range(60):
        s = (a + b) / 2
        if np.clip(np.floor(lo * rel**s), lo, hi).sum() > total:
            b = s
        else:
            a = s
    return np.clip(np.floor(lo * rel**s), lo, hi).astype(np.int64)


def generate(folder: str, entries: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    counts = rng.permutation(zipf_counts(entries, NUM_CLASSES))
    labels = rng.permutation(np.repeat(np.arange(NUM_CLASSES), counts))
    ids = rng.permutation(1_000_000 + np.cumsum(rng.integers(1, 40, len(labels))))
    pairs = list(zip(labels.tolist(), ids.tolist()))
    with open(osp.join(folder, 'train.json'), 'w') as f:
        f.write('{"images": [')
        f.write(', '.join([f'{{"class_id": "{c:05d}", "image_id": "{i}.jpg"}}' for c, i in pairs]))
        f.write(']}')
    with open(osp.join(folder, 'train.txt'), 'w') as f:
        f.write(''.join([f'{c:05d}/{i}.jpg {c}\n' for c, i in pairs]))
    return counts, labels, ids


def _status(key: str) -> int:
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith(key + ':'):
                return int(line.split()[1]) * 1024
    raise KeyError(key)


def worker(kind: str, folder: str) -> None:
    """Build one loader in this (fresh) process and print one RESULT json line."""
    import gc

    from mmpretrain.datasets import CustomDataset

    from aliprod_plugins.datasets import AliProductsDataset
    gc.collect()
    try:
        with open('/proc/self/clear_refs', 'w') as f:
            f.write('5')  # resets VmHWM to the current RSS
        reset = True
    except OSError:
        reset = False
    base = _status('VmRSS')
    t0 = time.perf_counter()
    if kind == 'custom':
        ds = CustomDataset(
            data_root=folder,
            ann_file='train.txt',
            data_prefix='train',
            with_label=True,
            lazy_init=False)
    else:
        ann, cap = OURS[kind]
        ds = AliProductsDataset(
            data_root=folder,
            split='train',
            ann_file=ann,
            num_classes=NUM_CLASSES,
            max_per_class=cap,
            check_files='off',
            cache_index=kind.endswith('_cache'))
    build = time.perf_counter() - t0
    peak = _status('VmHWM') - base
    t0 = time.perf_counter()
    labels = np.asarray(ds.get_gt_labels())
    labels_s = time.perf_counter() - t0
    print(
        'RESULT ' + json.dumps(
            dict(
                kind=kind,
                n=len(ds),
                build_s=build,
                peak_added=peak,
                labels_ms=labels_s * 1e3,
                hwm_reset=reset,
                labels_sum=int(labels.sum()))),
        flush=True)


def run_worker(kind: str, folder: str) -> dict:
    out = subprocess.run([sys.executable, __file__, '--worker', kind, folder],
                         check=True,
                         stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL,
                         text=True).stdout
    return json.loads(next(ln for ln in out.splitlines() if ln.startswith('RESULT '))[7:])


def bench_check(folder: str, counts, labels, ids, entries: int) -> None:
    """Time the default file check on a tree of real empty files (whole classes)."""
    from aliprod_plugins.datasets.annotations import load_annotation
    from aliprod_plugins.datasets.file_check import find_missing
    classes = np.flatnonzero(np.cumsum(counts) <= entries)
    keep = np.isin(labels, classes)
    root = osp.join(folder, 'check')
    for c in classes.tolist():
        os.makedirs(osp.join(root, 'train', f'{c:05d}'))
    for c, i in zip(labels[keep].tolist(), ids[keep].tolist()):
        open(osp.join(root, 'train', f'{c:05d}', f'{i}.jpg'), 'wb').close()
    with open(osp.join(root, 'train.json'), 'w') as f:
        json.dump(
            {
                'images': [{
                    'class_id': f'{c:05d}',
                    'image_id': f'{i}.jpg'
                } for c, i in zip(labels[keep].tolist(), ids[keep].tolist())]
            }, f)
    index, _ = load_annotation(osp.join(root, 'train.json'), NUM_CLASSES)
    t0 = time.perf_counter()
    missing = find_missing(index, osp.join(root, 'train'))
    took = time.perf_counter() - t0
    n = len(index)
    print(f"check_files='list' (default), warm page cache: {n} files in {len(classes)} class "
          f'folders checked in {took:.3f} s ({took / n * 1e6:.2f} us/file, {len(missing)} '
          f'missing) -> about {took / n * 2.5e6:.1f} s for 2.5M files (linear extrapolation)')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        '--entries',
        type=int,
        default=2_500_000,
        help='approximate annotation size (default: 2500000)')
    parser.add_argument(
        '--check-entries',
        type=int,
        default=100_000,
        help='files created to time the existence check; 0 skips it '
        '(default: 100000)')
    parser.add_argument('--worker', nargs=2, metavar=('KIND', 'FOLDER'), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(*args.worker)
    with tempfile.TemporaryDirectory() as folder:
        t0 = time.perf_counter()
        counts, labels, ids = generate(folder, args.entries)
        print(f'generated {len(labels)} entries, {NUM_CLASSES} classes, per class '
              f'{counts.min()}..{counts.max()} (median {np.median(counts):g}), train.json '
              f'{osp.getsize(osp.join(folder, "train.json")) / 2**20:.0f} MiB, in '
              f'{time.perf_counter() - t0:.1f} s')
        print('file existence check: off for both loaders (CustomDataset with ann_file does '
              'not check)')
        res = {k: run_worker(k, folder) for k in ('custom', 'ours_json_cap250', 'ours_list_cap250')}
        run_worker('ours_json_cap250_cache', folder)  # first start: parses, writes the cache
        res['ours_json_cap250_cache'] = run_worker('ours_json_cap250_cache', folder)
        print(f'{"loader":<62}{"samples":>10}{"build s":>10}{"peak added MiB":>16}'
              f'{"get_gt_labels ms":>18}')
        for k, r in res.items():
            print(f'{NAMES[k]:<62}{r["n"]:>10}{r["build_s"]:>10.2f}'
                  f'{r["peak_added"] / 2**20:>16.0f}{r["labels_ms"]:>18.2f}')
        if not all(r['hwm_reset'] for r in res.values()):
            print('note: VmHWM could not be reset; peak includes the import peak')
        base = res['custom']
        for k in ('ours_json_cap250', 'ours_list_cap250'):
            r = res[k]
            t, m = r['build_s'] / base['build_s'], r['peak_added'] / base['peak_added']
            ok = t <= TARGET_TIME and m <= TARGET_MEM and r['labels_ms'] < TARGET_LABELS_MS
            print(f'{NAMES[k]}: time {t:.3f}x (target <= {TARGET_TIME}x), peak memory '
                  f'{m:.3f}x (target <= {TARGET_MEM}x), get_gt_labels {r["labels_ms"]:.3f} ms '
                  f'(target < {TARGET_LABELS_MS:g} ms) -> {"MET" if ok else "NOT MET"}')
        if args.check_entries:
            bench_check(folder, counts, labels, ids, args.check_entries)


if __name__ == '__main__':
    main()
