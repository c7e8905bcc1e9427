"""What ``tools/clean_labels.py`` writes: the kept annotation, its report, CSV and plot."""
import json
import os.path as osp

import numpy as np

from aliprod_plugins.engine.atomic_io import atomic_write_bytes


def annotation_bytes(dataset, keep: np.ndarray) -> bytes:
    """The kept images as an annotation in the dataset's own format (JSON or list file)."""
    index, idx = dataset._index, np.flatnonzero(keep)
    labels = index.labels
    if dataset.ann_format == 'json':
        images = [{'class_id': f'{int(labels[i]):05d}', 'image_id': index.name(i)} for i in idx]
        text = json.dumps({'images': images}, ensure_ascii=False)
        return text.encode('utf-8', 'surrogateescape')
    lines = [f'{index.relative_path(i)} {int(labels[i])}\n' for i in idx]
    return ''.join(lines).encode('utf-8', 'surrogateescape')


def write_report(out: str, dataset, labels, scores, removed, args, bad: list) -> str:
    stem, folder = osp.splitext(osp.basename(out))[0], osp.dirname(osp.abspath(out))
    num_classes = dataset.num_classes
    total = np.bincount(labels, minlength=num_classes)
    gone = np.bincount(labels[removed], minlength=num_classes)
    report = dict(config=args.config, checkpoints=args.checkpoints, threshold=args.threshold,
                  min_keep=args.min_keep, adjust_tau=args.adjust_tau,
                  annotation=dataset.ann_file, format=dataset.ann_format, out=out,
                  images=int(len(labels)), removed=int(removed.sum()),
                  bad_images=[dict(path=dataset._index.relative_path(i), error=msg)
                              for i, msg in bad],
                  per_class=[dict(label=int(c), images=int(total[c]), removed=int(gone[c]),
                                  kept=int(total[c] - gone[c]))
                             for c in np.flatnonzero(total)])
    atomic_write_bytes(osp.join(folder, f'{stem}_report.json'),
                       json.dumps(report, indent=1).encode())
    rows = ['path,label,score\n'] + [
        f'{dataset._index.relative_path(i)},{int(labels[i])},{scores[i]:.6f}\n'
        for i in np.flatnonzero(removed)]
    atomic_write_bytes(osp.join(folder, f'{stem}_removed.csv'),
                       ''.join(rows).encode('utf-8', 'surrogateescape'))
    _plot(osp.join(folder, f'{stem}_removed_per_class.png'), total, gone)
    return folder


def _plot(path: str, total: np.ndarray, gone: np.ndarray) -> None:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    order = np.argsort(-total, kind='stable')
    order = order[total[order] > 0]
    x = np.arange(len(order))
    fig, ax = plt.subplots(figsize=(8, 4))
    ax.fill_between(x, total[order] - gone[order], step='mid', label='kept', color='tab:blue')
    ax.fill_between(x, total[order], total[order] - gone[order], step='mid', color='tab:red',
                    label='removed')
    ax.set_xlabel('classes, largest first')
    ax.set_ylabel('training images')
    ax.set_yscale('symlog', linthresh=10)
    ax.set_ylim(bottom=0)
    ax.set_title(f'{int(gone.sum())} of {int(total.sum())} images removed')
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
