"""Remove training images whose labels the model rejects; keep at least K images of each class.

    python tools/clean_labels.py CONFIG CKPT [CKPT ...] --out data/train_clean.json
    python tools/train.py CONFIG --cfg-options \
        train_dataloader.dataset.ann_file=$PWD/data/train_clean.json

Criterion: for every image of the training split (as ``train_dataloader.dataset`` builds it,
with the config's test pipeline and without ``max_per_class`` capping, so that the result
replaces the original annotation and the capping still applies when training on it), the
probability of its given label under the class-balanced posterior
``softmax(logits - adjust_tau * log(prior))``, averaged over the given checkpoints. The prior is
the one the model was trained with: the class counts of ``train_dataloader.dataset`` as
configured, i.e. **after** capping (classes without images count as one image); this stops tail
images from looking wrong just for being tail. A checkpoint trained with Balanced Softmax
(``BalancedSoftmaxLoss`` in the config) already gives class-balanced logits: it is scored raw
(``--adjust-tau`` defaults to 0 for it, and a positive value is refused: that would adjust
twice). A model fine-tuned with class-balanced sampling is balanced too: pass ``--adjust-tau 0``.
An image is removed when its score is below ``--threshold``, unless it is among the K
best-scored images of its class (``--min-keep``): no class loses its last K images (classes with
fewer keep all). Images that fail to load are listed and not scored (whatever the config's
``on_error``: a resampled image's score would be charged to the bad one); they stay in the
annotation, where training's ``on_error`` decides. Which checkpoints: a network fits clean
labels first and memorises wrong ones late,
mostly after the LR drops (Arpit et al., ICML 2017), so on long runs a model at the end of
training accepts labels it should reject; checkpoints from before the first LR decay, averaged
(an approximation of area-under-margin ranking, Pleiss et al., NeurIPS 2020), avoid that. Measure
it on your schedule: on Digits-LT's short one (20 epochs, 20% flipped labels) the last
checkpoint had not memorised the flips and ranked them better than the early ones
(``benchmarks/sweep_clean_labels.py``; figures in the README).

Memory: O(batch + N) whatever the number of classes C: each batch's ``(B, C)`` logits are
reduced to the label's log-probability at once; the tool holds one float per image (the
running sum of scores), the labels and the list of bad images, never ``N x C``.

Writes ``--out`` in the format of the input annotation (AliProducts JSON or list file), and
next to it ``<stem>_report.json`` (per class: images, removed, kept; the bad images),
``<stem>_removed.csv`` (every removed image with its label and score) and
``<stem>_removed_per_class.png``.
"""
import argparse
import os.path as osp
import sys

sys.path[:0] = [osp.dirname(osp.dirname(osp.abspath(__file__))), osp.dirname(osp.abspath(__file__))]

import numpy as np  # noqa: E402
import torch  # noqa: E402
from mmengine.config import Config  # noqa: E402
from mmengine.registry import init_default_scope  # noqa: E402
from mmengine.dataset import pseudo_collate  # noqa: E402
from mmengine.runner.checkpoint import load_state_dict  # noqa: E402
from mmengine.utils import ProgressBar  # noqa: E402
from mmpretrain.registry import DATASETS, MODELS  # noqa: E402

import aliprod_plugins  # noqa: E402,F401  registration
from aliprod_plugins.cli import add_cfg_options_args, apply_cfg_options, run_tool  # noqa: E402
from aliprod_plugins.engine import safe_load  # noqa: E402
from aliprod_plugins.engine.atomic_io import atomic_write_bytes  # noqa: E402
from aliprod_plugins.evaluation import build_train_dataset, counts_from_dataset  # noqa: E402
from aliprod_plugins.evaluation.calibration import log_prior  # noqa: E402
from aliprod_plugins.models import BalancedSoftmaxLoss  # noqa: E402
from aliprod_plugins.transforms.errors import ImageLoadError  # noqa: E402
from clean_labels_report import annotation_bytes, write_report  # noqa: E402


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
    crit.add_argument('--adjust-tau', type=float, default=None,
                      help='score with logits - tau * log(training prior); 0 scores the raw '
                      'softmax (default: 1.0, or 0 for a Balanced Softmax model)')
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
                 device: str, what: str) -> tuple:
    """Probability of each image's label under ``softmax(logits - adjust)``.

    Each batch's ``(B, C)`` logits are reduced to the label's log-probability before the next
    batch: the memory is O(batch + N), never N x C.

    Args:
        model (torch.nn.Module): The classifier, in eval mode.
        loader: A loader of :func:`build_split` (yields indices, bad images and a batch).
        labels (np.ndarray): The split's labels (N,), in dataset order.
        adjust (torch.Tensor): ``(C,)`` subtracted from the logits.
        device (str): Device of the model.
        what (str): Shown with the progress bar.

    Returns:
        tuple: ``(scores, bad)``: float64 (N,), NaN where the image failed to load, and a
        list of ``(index, message)`` of the images that failed.
    """
    print(f'scoring with {what}', flush=True)
    scores = np.full(len(labels), np.nan)
    bad, bar = [], ProgressBar(len(loader), file=sys.stdout)
    for batch in loader:
        bad.extend(batch['bad'])
        if batch['indices']:
            idx = np.asarray(batch['indices'])
            data = model.data_preprocessor(batch['data'], False)
            logits = model(data['inputs'], mode='tensor').float() - adjust
            target = torch.as_tensor(labels[idx], device=logits.device)
            got = [int(s.gt_label.reshape(-1)[0]) for s in data['data_samples']]
            if got != labels[idx].tolist():  # the batch must be the images it names
                raise RuntimeError(f'clean_labels.py: batch labels {got[:5]} do not match the '
                                   f'annotation\'s {labels[idx][:5].tolist()} at {idx[:5]}')
            # log p(y) = z_y - logsumexp(z), per row: (B,) kept, (B, C) dropped here
            logp = logits.gather(1, target[:, None])[:, 0] - torch.logsumexp(logits, dim=1)
            scores[idx] = logp.exp().double().cpu().numpy()
        bar.update()
    sys.stdout.write('\n')
    return scores, bad


def build_model(cfg: Config, checkpoint: str, device: str) -> torch.nn.Module:
    model_cfg = cfg.model.copy()
    if cfg.get('data_preprocessor') is not None:  # as the Runner does
        model_cfg.setdefault('data_preprocessor', cfg.data_preprocessor)
    model = MODELS.build(model_cfg)
    ckpt = safe_load(checkpoint, map_location='cpu')
    load_state_dict(model, ckpt.get('state_dict', ckpt), strict=True)
    return model.to(device).eval()


def trained_adjustment(model: torch.nn.Module) -> float:
    """The ``tau`` of the Balanced Softmax loss the model was trained with (0 if none)."""
    return max([m.tau for m in model.modules() if isinstance(m, BalancedSoftmaxLoss)] or [0.0])


def train_prior_counts(cfg: Config, num_classes: int) -> np.ndarray:
    """Class counts of ``train_dataloader.dataset`` as configured (after capping), padded."""
    counts = counts_from_dataset(build_train_dataset(cfg.train_dataloader), num_classes=num_classes)
    if counts is None or len(counts) > num_classes:
        raise ValueError(f'clean_labels.py expects training class counts of at most '
                         f'{num_classes} classes from train_dataloader.dataset, got '
                         f'{None if counts is None else len(counts)}')
    return np.pad(counts, (0, num_classes - len(counts)))


class _Tolerant(torch.utils.data.Dataset):
    """The split with each image that fails to load reported instead of raised."""

    def __init__(self, dataset) -> None:
        self.dataset = dataset

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, idx: int) -> dict:
        try:
            return dict(index=idx, data=self.dataset[idx])
        except ImageLoadError as err:
            return dict(index=idx, bad=str(err))


def _collate(items: list) -> dict:
    good = [it for it in items if 'data' in it]
    return dict(indices=[it['index'] for it in good],
                bad=[(it['index'], it['bad']) for it in items if 'bad' in it],
                data=pseudo_collate([it['data'] for it in good]) if good else None)


def build_split(cfg: Config):
    """The training split without capping, with the test pipeline, in annotation order.

    The dataset raises on a bad image (``on_error='raise'``, whatever the config says: a
    replacement's score would be charged to the bad image); the loader reports it instead.
    """
    ds_cfg = cfg.train_dataloader.dataset.copy()
    if ds_cfg.get('type') != 'AliProductsDataset':
        raise ValueError(f'clean_labels.py rewrites the annotation of an AliProductsDataset, '
                         f'got train_dataloader.dataset of type {ds_cfg.get("type")!r}')
    ds_cfg.update(max_per_class=None, indices=None, on_error='raise',
                  pipeline=cfg.val_dataloader.dataset.pipeline)
    dataset = DATASETS.build(ds_cfg)
    val = cfg.val_dataloader
    loader = torch.utils.data.DataLoader(
        _Tolerant(dataset), batch_size=val.get('batch_size', 64), shuffle=False,
        num_workers=val.get('num_workers', 0), collate_fn=_collate)
    return dataset, loader


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
    total, bad, adjust = np.zeros(len(labels)), None, None
    for i, ckpt in enumerate(args.checkpoints):
        model = build_model(cfg, ckpt, args.device)
        if adjust is None:
            adjust = _adjustment(args, cfg, model)
        what = f'checkpoint {i + 1}/{len(args.checkpoints)} ({ckpt})'
        scores, bad = label_scores(model, loader, labels, adjust, args.device, what)
        total += scores
    scores = total / len(args.checkpoints)  # NaN where an image failed to load
    unscored = np.isnan(scores)
    removed = np.zeros(len(labels), dtype=bool)  # images that failed to load stay, unscored
    removed[~unscored] = select_removed(labels[~unscored], scores[~unscored], args.threshold,
                                        args.min_keep)

    out = osp.abspath(args.out)
    atomic_write_bytes(out, annotation_bytes(dataset, ~removed))
    folder = write_report(out, dataset, labels, scores, removed, args, bad)
    spared = int(((scores < args.threshold) & ~removed).sum())
    classes = int((np.bincount(labels[removed], minlength=dataset.num_classes) > 0).sum())
    print(f'clean_labels: scored {int((~unscored).sum())} images with '
          f'{len(args.checkpoints)} checkpoint(s) (adjust tau {args.adjust_tau:g}); removed '
          f'{int(removed.sum())} ({100 * removed.mean():.1f}%) from {classes} classes, kept '
          f'{int((~removed).sum())} ({spared} below the threshold kept by --min-keep '
          f'{args.min_keep}; {len(bad)} that failed to load kept unscored, listed in the '
          f'report); wrote {out} ({dataset.ann_format}) and its report in {folder}')


def _adjustment(args, cfg: Config, model: torch.nn.Module) -> torch.Tensor:
    """``tau * log(prior)`` of the scoring; refuses to adjust a Balanced Softmax model twice."""
    trained = trained_adjustment(model)
    if args.adjust_tau is None:
        args.adjust_tau = 0.0 if trained else 1.0
    elif trained and args.adjust_tau > 0:
        raise ValueError(f'--adjust-tau {args.adjust_tau:g} with a model trained with '
                         f'BalancedSoftmaxLoss(tau={trained:g}): its logits are class-balanced '
                         f'already, adjusting them again would favour the tail twice; expected '
                         f'--adjust-tau 0 (the default for such a model)')
    num_classes = model.head.num_classes
    counts = train_prior_counts(cfg, num_classes) if args.adjust_tau else np.ones(num_classes)
    return args.adjust_tau * log_prior(counts).float().to(args.device)


if __name__ == '__main__':
    run_tool(main)
