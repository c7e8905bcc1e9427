"""Plot per-class top-1 accuracy against training-set size for one or more result files.

    python tools/test.py CONFIG stage1.pth --out results/stage1.json
    python tools/test.py CONFIG stage2.pth --out results/stage2.json
    python tools/analysis/plot_per_class_acc.py results/stage1_per_class.csv \\
        results/stage2_per_class.csv --labels "stage 1" "stage 2" --out per_class_acc.png

Left: the mean class accuracy per log-spaced bin of training size (a line; the band is the
bin's 25-75th percentile of class accuracy, so that thousands of classes stay readable) and,
up to ``--max-points`` classes per file, every class as a dot. Right: many / medium / few-shot
mean class accuracy per file, with the number of classes under each bar. Reads the
``class_id,train_count,eval_count,top1_acc`` CSVs of ``tools/test.py --out`` and
``tools/tau_norm.py``. Writes the PNG (creating its folder) and, beside it, ``<name>.json``
with every number drawn: the bins (edges, classes, mean, quartiles) and the shot-group bars.
"""
import argparse
import json
import os
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

import matplotlib  # noqa: E402

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from aliprod_plugins.checks import check_int  # noqa: E402
from aliprod_plugins.cli import add_shot_args, run_tool  # noqa: E402
from aliprod_plugins.evaluation.functional import shot_masks  # noqa: E402
from aliprod_plugins.evaluation.reports import read_per_class_csv  # noqa: E402

GROUPS = ('many', 'medium', 'few')


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Per-class accuracy vs training-set size')
    parser.add_argument('csv', nargs='+', help='per-class CSV files')
    parser.add_argument('--labels', nargs='+', help='one legend label per CSV (default: names)')
    parser.add_argument('--out', default='per_class_acc.png',
                        help='output PNG; the drawn numbers go to the same name .json '
                        '(default: per_class_acc.png)')
    parser.add_argument('--bins', type=int, default=12,
                        help='log-spaced bins of training size (default: 12)')
    parser.add_argument('--max-points', type=int, default=300,
                        help='draw every class as a dot when a file has at most this many '
                        'evaluated classes; 0: never (default: 300)')
    add_shot_args(parser)
    args = parser.parse_args(argv)
    if args.labels is not None and len(args.labels) != len(args.csv):
        raise ValueError(f'--labels needs one label per CSV ({len(args.csv)}), got '
                         f'{len(args.labels)}')
    check_int('--bins', args.bins, low=1)
    check_int('--max-points', args.max_points, low=0)
    return args


def load(path: str) -> tuple:
    """Training counts and accuracies of the evaluated classes with a known training count."""
    table = read_per_class_csv(path)
    keep = (table['eval_count'] > 0) & ~np.isnan(table['train_count']) & ~np.isnan(
        table['top1_acc'])
    if not keep.any():
        raise ValueError(f'{path}: no class has both a train_count and a top1_acc')
    return table['train_count'][keep], table['top1_acc'][keep]


def bin_edges(top: float, bins: int) -> np.ndarray:
    """``[0, 1)`` for classes without training images, then ``bins`` log-spaced bins."""
    return np.unique(np.concatenate([[0.0, 1.0], np.geomspace(1, top + 1, bins + 1)]))


def bin_stats(train: np.ndarray, acc: np.ndarray, edges: np.ndarray) -> dict:
    """Per bin ``[edges[i], edges[i+1])``: classes, mean and quartiles of class accuracy.

    Returns:
        dict: arrays ``lo``, ``hi``, ``center`` (geometric), ``classes``, ``mean``, ``q25``,
        ``q75`` of the non-empty bins.
    """
    which = np.clip(np.searchsorted(edges, train, side='right') - 1, 0, len(edges) - 2)
    num = np.bincount(which, minlength=len(edges) - 1)
    total = np.bincount(which, weights=acc, minlength=len(edges) - 1)
    filled = np.flatnonzero(num > 0)
    order = np.argsort(which, kind='stable')  # the classes of each bin, together
    starts = np.cumsum(num) - num
    q25 = [np.percentile(acc[order[starts[b]:starts[b] + num[b]]], 25) for b in filled]
    q75 = [np.percentile(acc[order[starts[b]:starts[b] + num[b]]], 75) for b in filled]
    return dict(lo=edges[:-1][filled], hi=edges[1:][filled],
                center=np.sqrt(np.maximum(edges[:-1], 0.5) * edges[1:])[filled],
                classes=num[filled], mean=total[filled] / num[filled],
                q25=np.asarray(q25, dtype=np.float64), q75=np.asarray(q75, dtype=np.float64))


def binned_mean(train: np.ndarray, acc: np.ndarray, edges: np.ndarray) -> tuple:
    """``(centers, means)`` of the non-empty bins (see :func:`bin_stats`)."""
    stats = bin_stats(train, acc, edges)
    return stats['center'], stats['mean']


def shot_groups(train: np.ndarray, acc: np.ndarray, many_thr: int, few_thr: int) -> dict:
    """``{group: (mean class accuracy or None, classes)}`` for many / medium / few."""
    masks = shot_masks(train, many_thr, few_thr)
    return {g: (float(acc[masks[g]].mean()) if masks[g].any() else None, int(masks[g].sum()))
            for g in GROUPS}


def summarize(paths: list, labels: list, args: argparse.Namespace) -> dict:
    """Everything the figure shows, as plain numbers (also written as JSON)."""
    data = [load(p) for p in paths]
    edges = bin_edges(max(t.max() for t, _ in data), args.bins)
    files = []
    for path, label, (train, acc) in zip(paths, labels, data):
        stats = bin_stats(train, acc, edges)
        groups = shot_groups(train, acc, args.many_shot_thr, args.few_shot_thr)
        drawn = len(acc) <= args.max_points
        files.append(dict(
            label=label, csv=path, classes=int(len(acc)), mean_class_acc=float(acc.mean()),
            points_drawn=drawn, bins={k: v.tolist() for k, v in stats.items()},
            shot_groups={g: dict(mean_class_acc=m, classes=n) for g, (m, n) in groups.items()},
            points=dict(train_count=train.tolist(), top1_acc=acc.tolist()) if drawn else None))
    return dict(bin_edges=edges.tolist(), many_shot_thr=args.many_shot_thr,
                few_shot_thr=args.few_shot_thr, files=files)


def draw(summary: dict, out: str) -> None:
    """Draw the summary: binned accuracy vs training size, and the shot-group bars."""
    fig, (ax, bars) = plt.subplots(1, 2, figsize=(12, 4.5), dpi=120,
                                   gridspec_kw=dict(width_ratios=[2.2, 1]))
    files = summary['files']
    width = 0.8 / len(files)
    for i, entry in enumerate(files):
        color = f'C{i}'
        if entry['points_drawn']:
            ax.scatter(entry['points']['train_count'], entry['points']['top1_acc'], s=6,
                       alpha=0.3, color=color, linewidths=0)
        b = entry['bins']
        ax.fill_between(b['center'], b['q25'], b['q75'], color=color, alpha=0.15, linewidth=0)
        ax.plot(b['center'], b['mean'], '-o', color=color, markersize=3,
                label=f'{entry["label"]}: {entry["classes"]:,} classes, mean class acc '
                f'{entry["mean_class_acc"]:.2f}')
        values = [entry['shot_groups'][g]['mean_class_acc'] for g in GROUPS]
        xs = np.arange(3) + (i - (len(files) - 1) / 2) * width
        bars.bar(xs, [np.nan if v is None else v for v in values], width, color=color,
                 label=entry['label'])
        for x, v in zip(xs, values):
            if v is not None:
                bars.annotate(f'{v:.1f}', (x, v), ha='center', va='bottom', fontsize=7)
    many, few = summary['many_shot_thr'], summary['few_shot_thr']
    for thr in (few, many):
        ax.axvline(thr, color='grey', linestyle='--', linewidth=0.8)
    ax.set_xscale('symlog', linthresh=1)
    # counts are >= 0: without this the symlog axis pads into negative values
    ax.set_xlim(left=0)
    ax.set_xlabel('training images of the class')
    ax.set_ylabel('per-class top-1 accuracy (%): bin mean, 25-75% band')
    ax.set_ylim(-2, 102)
    ax.legend(fontsize=8)
    ax.grid(True, alpha=0.3)
    counts = [files[0]['shot_groups'][g]['classes'] for g in GROUPS]
    bars.set_xticks(np.arange(3))
    bars.set_xticklabels([f'many (>{many})\n{counts[0]:,} cl.',
                          f'medium ({few}-{many})\n{counts[1]:,} cl.',
                          f'few (<{few})\n{counts[2]:,} cl.'], fontsize=8)
    bars.set_ylabel('mean class top-1 accuracy (%)')
    bars.set_ylim(0, 105)
    bars.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)


def main(argv=None) -> dict:
    args = parse_args(argv)
    labels = args.labels or [osp.splitext(osp.basename(p))[0] for p in args.csv]
    summary = summarize(args.csv, labels, args)
    if osp.dirname(args.out):
        os.makedirs(osp.dirname(args.out), exist_ok=True)
    draw(summary, args.out)
    json_path = osp.splitext(args.out)[0] + '.json'
    with open(json_path, 'w') as f:
        json.dump(summary, f, indent=1)
    print(f'written: {args.out} and {json_path} ({len(summary["files"])} files, '
          f'{sum(e["classes"] for e in summary["files"]):,} classes)')
    return summary


if __name__ == '__main__':
    run_tool(main)
