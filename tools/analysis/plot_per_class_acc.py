"""Plot per-class top-1 accuracy against training-set size for one or more result files.

    python tools/test.py CONFIG stage1.pth --out results/stage1.json
    python tools/test.py CONFIG stage2.pth --out results/stage2.json
    python tools/analysis/plot_per_class_acc.py results/stage1_per_class.csv \\
        results/stage2_per_class.csv --labels "stage 1" "stage 2" --out per_class_acc.png

Left: every evaluated class as a dot (x: training images, symlog scale) and the mean class
accuracy per log-spaced bin of training size as a line. Right: many / medium / few-shot mean
class accuracy per file. Reads the ``class_id,train_count,eval_count,top1_acc`` CSVs of
``tools/test.py --out`` and ``tools/tau_norm.py``.
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

import matplotlib  # noqa: E402

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from aliprod_plugins.evaluation.functional import shot_masks  # noqa: E402
from aliprod_plugins.evaluation.reports import read_per_class_csv  # noqa: E402


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Per-class accuracy vs training-set size')
    parser.add_argument('csv', nargs='+', help='per-class CSV files')
    parser.add_argument('--labels', nargs='+', help='one legend label per CSV (default: names)')
    parser.add_argument('--out', default='per_class_acc.png',
                        help='output PNG (default: per_class_acc.png)')
    parser.add_argument('--bins', type=int, default=12,
                        help='log-spaced bins of training size (default: 12)')
    parser.add_argument('--many-shot-thr', type=int, default=100, help='(default: 100)')
    parser.add_argument('--few-shot-thr', type=int, default=20, help='(default: 20)')
    args = parser.parse_args()
    if args.labels is not None and len(args.labels) != len(args.csv):
        raise ValueError(f'--labels needs one label per CSV ({len(args.csv)}), got '
                         f'{len(args.labels)}')
    if args.bins < 1:
        raise ValueError(f'--bins must be a positive int, got {args.bins!r}')
    return args


def load(path: str) -> tuple:
    """Training counts and accuracies of the evaluated classes with a known training count."""
    table = read_per_class_csv(path)
    keep = (table['eval_count'] > 0) & ~np.isnan(table['train_count']) & ~np.isnan(
        table['top1_acc'])
    if not keep.any():
        raise ValueError(f'{path}: no class has both a train_count and a top1_acc')
    return table['train_count'][keep], table['top1_acc'][keep]


def binned_mean(train: np.ndarray, acc: np.ndarray, edges: np.ndarray) -> tuple:
    """Mean class accuracy per bin ``[edges[i], edges[i+1])``; empty bins are dropped."""
    which = np.clip(np.searchsorted(edges, train, side='right') - 1, 0, len(edges) - 2)
    num = np.bincount(which, minlength=len(edges) - 1)
    total = np.bincount(which, weights=acc, minlength=len(edges) - 1)
    centers = np.sqrt(np.maximum(edges[:-1], 0.5) * edges[1:])
    filled = num > 0
    return centers[filled], total[filled] / num[filled]


def main() -> None:
    args = parse_args()
    labels = args.labels or [osp.splitext(osp.basename(p))[0] for p in args.csv]
    data = [load(p) for p in args.csv]
    top = max(t.max() for t, _ in data)
    edges = np.unique(np.concatenate([[0.0, 1.0], np.geomspace(1, top + 1, args.bins + 1)]))
    fig, (ax, bars) = plt.subplots(1, 2, figsize=(12, 4.5), dpi=120,
                                   gridspec_kw=dict(width_ratios=[2.2, 1]))
    groups = ('many', 'medium', 'few')
    width = 0.8 / len(data)
    for i, ((train, acc), label) in enumerate(zip(data, labels)):
        color = f'C{i}'
        ax.scatter(train, acc, s=4, alpha=0.25, color=color, linewidths=0)
        cx, cy = binned_mean(train, acc, edges)
        ax.plot(cx, cy, '-o', color=color, markersize=3,
                label=f'{label}: mean class acc {acc.mean():.2f}')
        masks = shot_masks(train, args.many_shot_thr, args.few_shot_thr)
        values = [acc[masks[g]].mean() if masks[g].any() else np.nan for g in groups]
        bars.bar(np.arange(3) + (i - (len(data) - 1) / 2) * width, values, width, color=color,
                 label=label)
    for thr in (args.few_shot_thr, args.many_shot_thr):
        ax.axvline(thr, color='grey', linestyle='--', linewidth=0.8)
    ax.set_xscale('symlog', linthresh=1)
    # counts are >= 0: without this the symlog axis pads into negative values
    ax.set_xlim(left=0)
    ax.set_xlabel('training images of the class')
    ax.set_ylabel('per-class top-1 accuracy (%)')
    ax.set_ylim(-2, 102)
    ax.legend(fontsize=8)
    ax.grid(True, alpha=0.3)
    bars.set_xticks(np.arange(3))
    bars.set_xticklabels([f'many (>{args.many_shot_thr})',
                          f'medium ({args.few_shot_thr}-{args.many_shot_thr})',
                          f'few (<{args.few_shot_thr})'], fontsize=8)
    bars.set_ylabel('mean class top-1 accuracy (%)')
    bars.set_ylim(0, 100)
    bars.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(args.out)
    plt.close(fig)
    print(f'written: {args.out}')


if __name__ == '__main__':
    main()
