"""Remove training images whose labels the model rejects; keep at least K images of each class.

    python tools/clean_labels.py CONFIG CKPT [CKPT ...] --out data/train_clean.json
    python tools/train.py CONFIG --cfg-options \
        train_dataloader.dataset.ann_file=$PWD/data/train_clean.json

Criterion: for every image of the training split (as ``train_dataloader.dataset`` builds it,
with the config's test pipeline and without ``max_per_class`` capping, so that the result
replaces the original annotation and the capping still applies when training on it), the
probability of its given label under the class-balanced posterior
``softmax(logits - adjust_tau * log(prior))`` (prior: the split's own class counts; this stops
tail images from looking wrong just for being tail), averaged over the given checkpoints. An
image is removed when that score is below ``--threshold``, unless it is among the K best-scored
images of its class (``--min-keep``): no class loses its last K images (classes with fewer keep
all). Which checkpoints: a network fits clean labels first and memorises wrong ones late,
mostly after the LR drops (Arpit et al., ICML 2017), so on long runs a model at the end of
training accepts labels it should reject; checkpoints from before the first LR decay, averaged
(an approximation of area-under-margin ranking, Pleiss et al., NeurIPS 2020), avoid that. Measure
it on your schedule: on Digits-LT's short one (20 epochs, 20% flipped labels) the last
checkpoint had not memorised the flips and ranked them better than the early ones
(``benchmarks/sweep_clean_labels.py``; figures in the README).

Writes ``--out`` in the format of the input annotation (AliProducts JSON or list file), and
next to it ``<stem>_report.json`` (per class: images, removed, kept), ``<stem>_removed.csv``
(every removed image with its label and score) and ``<stem>_removed_per_class.png``.
"""
import argparse
import json
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from mmengine.config import Config  # noqa: E402
from mmengine.registry import init_default_scope  # noqa: E402
from mmengine.runner import Runner  # noqa: E402
from mmengine.runner.checkpoint import load_state_dict  # noqa: E402
from mmengine.utils import ProgressBar  # noqa: E402
from mmpretrain.registry import DATASETS, MODELS  # noqa: E402

import aliprod_plugins  # noqa: E402,F401  registration
from aliprod_plugins.cli import add_cfg_options_args, apply_cfg_options, run_tool  # noqa: E402
from aliprod_plugins.engine import safe_load  # noqa: E402
from aliprod_plugins.engine.atomic_io import atomic_write_bytes  # noqa: E402
from aliprod_plugins.evaluation.calibration import log_prior  # noqa: E402


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Remove training images with rejected labels')
    parser.add_argument('config', help='config file path')
    parser.add_argument('checkpoints', nargs='+', metavar='CHECKPOINT',
                        help='checkpoint(s) to score with; their scores are averaged')
    parser.add_argument('--out', required=True, help='cleaned annotation to write')
    crit = parser.add_argument_group('criterion')
    crit.add_argument('--threshold', type=float, default=0.1,
                      help='remove an image when its label\'s mean probability is below this '
                      '(default: 0.1)')
    crit.add_argument('--min-keep', type=int, default=5,
                      help='always keep the K best-scored images of each class (default: 5)')
    crit.add_argument('--adjust-tau', type=float, default=1.0,
                      help='score with logits - tau * log(prior); 0 scores the raw softmax '
                      '(default: 1.0)')
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu',
                        help='device (default: cuda if present)')
    add_cfg_options_args(parser)
    return parser.parse_args()


def select_removed(labels: np.ndarray, scores: np.ndarray, threshold: float,
                   min_keep: int) -> np.ndarray:
    """Mask of images to remove: score below ``threshold`` and not among their class's best K.

    Args:
        labels (np.ndarray): int labels (N,).
        scores (np.ndarray): Score of each image's label (N,); higher is more trusted.
        threshold (float): Remove below this score.
        min_keep (int): Images of each class that are always kept (the best-scored ones).

    Returns:
        np.ndarray: bool (N,), True where the image is removed.
    """
    if isinstance(min_keep, bool) or not isinstance(min_keep, (int, np.integer)) or min_keep < 1:
        raise ValueError(f'min_keep must be an int >= 1, got {min_keep!r}')
    labels, scores = np.asarray(labels, dtype=np.int64), np.asarray(scores, dtype=np.float64)
    if labels.shape != scores.shape or labels.ndim != 1:
        raise ValueError(f'labels and scores must be 1-D of one length, got {labels.shape} '
                         f'and {scores.shape}')
    # rank of each image inside its class, best score first (one lexsort, no Python loop)
    order = np.lexsort((-scores, labels))
    sorted_labels = labels[order]
    starts = np.flatnonzero(np.r_[True, sorted_labels[1:] != sorted_labels[:-1]])
    sizes = np.diff(np.r_[starts, len(labels)])
    rank = np.empty(len(labels), dtype=np.int64)
    rank[order] = np.arange(len(labels)) - np.repeat(starts, sizes)
    return (scores < threshold) & (rank >= min_keep)


@torch.no_grad()
def label_scores(model: torch.nn.Module, loader, labels: np.ndarray, adjust: torch.Tensor,
                 device: str, what: str) -> np.ndarray:
    """Probability of each image's label under ``softmax(logits - adjust)``, in loader order."""
    print(f'scoring with {what}', flush=True)
    out, bar = [], ProgressBar(len(loader))
    for data in loader:
        data = model.data_preprocessor(data, False)
        logits = model(data['inputs'], mode='tensor').float() - adjust
        out.append(torch.log_softmax(logits, dim=1).cpu())
        bar.update()
    sys.stdout.write('\n')
    logp = torch.cat(out)
    return logp[torch.arange(len(labels)), torch.as_tensor(labels.copy())].exp().numpy()


def build_model(cfg: Config, checkpoint: str, device: str) -> torch.nn.Module:
    model_cfg = cfg.model.copy()
    if cfg.get('data_preprocessor') is not None:  # as the Runner does
        model_cfg.setdefault('data_preprocessor', cfg.data_preprocessor)
    model = MODELS.build(model_cfg)
    ckpt = safe_load(checkpoint, map_location='cpu')
    load_state_dict(model, ckpt.get('state_dict', ckpt), strict=True)
    return model.to(device).eval()


def build_split(cfg: Config):
    """The training split without capping, with the test pipeline, in annotation order."""
    ds_cfg = cfg.train_dataloader.dataset.copy()
    if ds_cfg.get('type') != 'AliProductsDataset':
        raise ValueError(f'clean_labels.py rewrites the annotation of an AliProductsDataset, '
                         f'got train_dataloader.dataset of type {ds_cfg.get("type")!r}')
    ds_cfg.update(max_per_class=None, indices=None, pipeline=cfg.val_dataloader.dataset.pipeline)
    dataset = DATASETS.build(ds_cfg)
    val = cfg.val_dataloader
    loader = Runner.build_dataloader(dict(
        batch_size=val.get('batch_size', 64), num_workers=val.get('num_workers', 0),
        sampler=dict(type='DefaultSampler', shuffle=False), dataset=dataset))
    return dataset, loader


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


def write_report(out: str, dataset, labels, scores, removed, args) -> str:
    stem, folder = osp.splitext(osp.basename(out))[0], osp.dirname(osp.abspath(out))
    num_classes = dataset.num_classes
    total = np.bincount(labels, minlength=num_classes)
    gone = np.bincount(labels[removed], minlength=num_classes)
    report = dict(config=args.config, checkpoints=args.checkpoints, threshold=args.threshold,
                  min_keep=args.min_keep, adjust_tau=args.adjust_tau,
                  annotation=dataset.ann_file, format=dataset.ann_format, out=out,
                  images=int(len(labels)), removed=int(removed.sum()),
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


def main() -> None:
    args = parse_args()
    if not 0 < args.threshold <= 1:
        raise ValueError(f'--threshold must lie in (0, 1], got {args.threshold}')
    if args.min_keep < 1:
        raise ValueError(f'--min-keep must be >= 1, got {args.min_keep}')
    cfg = Config.fromfile(args.config)
    apply_cfg_options(cfg, args)
    init_default_scope(cfg.get('default_scope', 'mmpretrain'))
    dataset, loader = build_split(cfg)
    labels = np.asarray(dataset.get_gt_labels(), dtype=np.int64)
    adjust = args.adjust_tau * log_prior(dataset.class_counts).float().to(args.device)
    scores = np.zeros(len(labels))
    for i, ckpt in enumerate(args.checkpoints):
        model = build_model(cfg, ckpt, args.device)
        what = f'checkpoint {i + 1}/{len(args.checkpoints)} ({ckpt})'
        scores += label_scores(model, loader, labels, adjust, args.device, what)
    scores /= len(args.checkpoints)
    removed = select_removed(labels, scores, args.threshold, args.min_keep)

    out = osp.abspath(args.out)
    atomic_write_bytes(out, annotation_bytes(dataset, ~removed))
    folder = write_report(out, dataset, labels, scores, removed, args)
    spared = int(((scores < args.threshold) & ~removed).sum())
    classes = int((np.bincount(labels[removed], minlength=dataset.num_classes) > 0).sum())
    print(f'clean_labels: scored {len(labels)} images with {len(args.checkpoints)} '
          f'checkpoint(s); removed {int(removed.sum())} ({100 * removed.mean():.1f}%) from '
          f'{classes} classes, kept {int((~removed).sum())} ({spared} below the threshold '
          f'kept by --min-keep {args.min_keep}); wrote {out} ({dataset.ann_format}) and its '
          f'report in {folder}')


if __name__ == '__main__':
    run_tool(main)
