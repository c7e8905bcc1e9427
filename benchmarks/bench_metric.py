"""Memory and time of LongTailAccuracy at AliProducts scale, next to MMPretrain's Accuracy.

    python benchmarks/bench_metric.py                      # 150,000 x 50,030, batches of 500
    python benchmarks/bench_metric.py --samples 20000      # quicker

LongTailAccuracy: random scores for ``--samples`` images x ``--classes`` classes stream through
``process()`` in batches, each generated (numpy's PCG64, faster than ``torch.rand`` here) into
one buffer allocated before the baseline, so the generator's memory is not counted; then
``evaluate()``. Accuracy: the
same on ``--acc-samples`` images, each batch a fresh tensor, because keeping the model's
output alive is precisely what Accuracy costs. As from MMPretrain's heads, each sample's
``pred_score`` is a row view of the batch tensor. Each part runs in its own process, after a
one-batch warm-up of a throw-away metric (torch / numpy initialisation). Reported: bytes kept
in ``results``; peak extra resident memory = the kernel's peak RSS (``ru_maxrss``) at the end
minus the RSS before the first batch, which covers every transient allocation of the metric
(numpy and torch); and the time spent inside the metric (score generation excluded).
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import time

import numpy as np
import torch

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)


def rss() -> int:
    """Current resident set size in bytes."""
    with open('/proc/self/statm') as f:
        return int(f.read().split()[1]) * os.sysconf('SC_PAGE_SIZE')


def peak_rss() -> int:
    """Highest resident set size of this process so far, in bytes (exact, kernel-tracked)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def stored_bytes(results: list) -> int:
    """Bytes of the arrays / tensor storages a metric keeps (shared storages counted once)."""
    total, seen = 0, set()
    for item in results:
        for value in item.values():
            if isinstance(value, np.ndarray):
                total += value.nbytes
            elif torch.is_tensor(value):
                storage = value.untyped_storage()
                if storage.data_ptr() not in seen:
                    seen.add(storage.data_ptr())
                    total += storage.nbytes()
    return total


def run_part(name: str, samples: int, classes: int, batch: int) -> dict:
    """Stream ``samples`` random score vectors through one metric; return the figures."""
    from mmpretrain.evaluation import Accuracy

    import aliprod_plugins  # noqa: F401  registration
    from aliprod_plugins.evaluation import LongTailAccuracy
    rng = np.random.default_rng(0)
    labels = torch.from_numpy(rng.integers(0, classes, (samples, 1)))
    counts = rng.integers(1, 500, classes)
    make = (lambda: LongTailAccuracy(topk=(1, 5), class_counts=counts)) if name == 'longtail' \
        else (lambda: Accuracy(topk=(1, 5)))
    host = rng.random((batch, classes), dtype=np.float32)
    buf = torch.from_numpy(host)  # shares memory with `host`
    warm = make()  # one-time torch / numpy initialisation is not the metric's memory
    warm.process(None, [{'pred_score': buf[i], 'gt_label': labels[i]} for i in range(batch)])
    warm.evaluate(batch)
    del warm

    metric = make()
    base = rss()
    in_metric = 0.0
    for start in range(0, samples, batch):
        n = min(batch, samples - start)
        if name == 'longtail':
            rng.random(out=host, dtype=np.float32)
            scores = buf[:n]
        else:
            scores = torch.from_numpy(rng.random((n, classes), dtype=np.float32))
        data_samples = [{'pred_score': scores[i], 'gt_label': labels[start + i]}
                        for i in range(n)]
        t0 = time.perf_counter()
        metric.process(None, data_samples)
        in_metric += time.perf_counter() - t0
        del scores, data_samples
    kept = stored_bytes(metric.results)
    t0 = time.perf_counter()
    values = metric.evaluate(samples)
    in_metric += time.perf_counter() - t0
    return dict(name=name, samples=samples, classes=classes, batch=batch, stored_bytes=kept,
                peak_rss_delta=peak_rss() - base, metric_seconds=in_metric,
                metrics={k: float(v) for k, v in values.items()})


def main() -> None:
    parser = argparse.ArgumentParser(description='LongTailAccuracy memory / time benchmark')
    parser.add_argument('--samples', type=int, default=150000, help='(default: 150000)')
    parser.add_argument('--classes', type=int, default=50030, help='(default: 50030)')
    parser.add_argument('--batch', type=int, default=500, help='(default: 500)')
    parser.add_argument('--acc-samples', type=int, default=5000,
                        help='samples for MMPretrain Accuracy (default: 5000)')
    parser.add_argument('--part', choices=['longtail', 'accuracy'], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.part:
        n = args.samples if args.part == 'longtail' else args.acc_samples
        print(json.dumps(run_part(args.part, n, args.classes, args.batch)))
        return

    print(f'torch {torch.__version__}, {torch.get_num_threads()} threads, '
          f'{args.classes:,} classes, batches of {args.batch}')
    results = {}
    for part in ('longtail', 'accuracy'):
        t0 = time.time()
        out = subprocess.run([sys.executable, __file__, '--part', part] + sys.argv[1:],
                             check=True, capture_output=True, text=True).stdout
        res = json.loads(out.strip().splitlines()[-1])
        res['wall'] = time.time() - t0
        results[part] = res
        name = 'LongTailAccuracy' if part == 'longtail' else 'mmpretrain Accuracy'
        print(f"{name:<20} {res['samples']:>7,} samples: stored results "
              f"{_mb(res['stored_bytes'])}, peak extra RSS {_mb(res['peak_rss_delta'])}, "
              f"time in metric {res['metric_seconds']:.1f} s "
              f"({1e6 * res['metric_seconds'] / res['samples']:.0f} us/sample), "
              f"process wall {res['wall']:.1f} s")
    lt = results['longtail']
    (lt_peak, lt_kept), (acc_peak, acc_kept) = (
        (r['peak_rss_delta'] / r['samples'], r['stored_bytes'] / r['samples'])
        for r in (results['longtail'], results['accuracy']))
    print(f'peak extra memory per sample: LongTailAccuracy {lt_peak:,.0f} B, '
          f'Accuracy {acc_peak:,.0f} B, ratio {acc_peak / lt_peak:,.0f}x')
    print(f'stored bytes per sample:      LongTailAccuracy {lt_kept:,.1f} B, '
          f'Accuracy {acc_kept:,.0f} B, ratio {acc_kept / lt_kept:,.0f}x')
    print(f"Accuracy extrapolated to {lt['samples']:,} samples: "
          f"{acc_peak * lt['samples'] / 2**30:,.1f} GiB")
    target = 50 * 2**20
    print(f"LongTailAccuracy peak extra memory {_mb(lt['peak_rss_delta'])} "
          f"({'meets' if lt['peak_rss_delta'] < target else 'MISSES'} the < 50 MB target)")
    print('random-score sanity (percent): ' + ', '.join(
        f'{k} {v:.4f}' for k, v in lt['metrics'].items() if 'top' in k or 'mean_class' in k))


def _mb(num: int) -> str:
    return f'{num / 2**20:,.1f} MB'


if __name__ == '__main__':
    main()
