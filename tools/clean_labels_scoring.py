"""The scores of ``tools/clean_labels.py``: the split, each image's label probability, the rule.

Memory: O(batch + N) whatever the number of classes C: each batch's ``(B, C)`` logits are
reduced to the label's log-probability at once (:func:`label_scores`), never ``N x C``.
"""
import sys

import numpy as np
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.utils import ProgressBar
from mmpretrain.registry import DATASETS

from aliprod_plugins.checks import check_int
from aliprod_plugins.evaluation import build_train_dataset, counts_from_dataset
from aliprod_plugins.models import BalancedSoftmaxLoss
from aliprod_plugins.transforms.errors import ImageLoadError


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
    min_keep = check_int('min_keep', min_keep, low=1, owner='select_removed')
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
