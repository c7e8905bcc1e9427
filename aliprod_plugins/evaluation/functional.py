"""Long-tail classification metrics computed from top-k labels with ``np.bincount``.

Everything here works on compact arrays: ``pred`` is an ``(N, k)`` int32 array of the k
best-scored classes per sample (best first), ``gt`` an ``(N,)`` int array. Nothing is per-sample
Python, so 150,000 samples x 50,030 classes cost a few MB and milliseconds.

Ties: among equal scores the class with the lower index ranks first, as a stable descending
sort would order them (and as ``torch.argmax``, which MMPretrain uses for ``pred_label``, does for
top-1). :func:`topk_labels` enforces this whatever order ``torch.topk`` returns.

All accuracies are percentages (0-100), as in MMPretrain's ``Accuracy``.
"""
import math
from typing import Dict, Optional, Sequence, Tuple

import numpy as np
import torch

SHOT_GROUPS = ('many', 'medium', 'few')


def topk_labels(scores: torch.Tensor, k: int) -> torch.Tensor:
    """Return the ``k`` best classes of each row, ties broken towards the lower class index.

    ``torch.topk`` orders equal values arbitrarily. Here the top ``k + 1`` values are taken; a
    row whose k-th and (k+1)-th values are equal has a tie across the cut, and only those rows
    (rare with real scores) are redone by picking the lowest tied indices. Within the kept set
    the order is (score descending, index ascending).

    Args:
        scores (torch.Tensor): ``(N, C)`` scores, higher is better.
        k (int): How many classes to keep; more than ``C`` keeps ``C``.

    Returns:
        torch.Tensor: ``(N, min(k, C))`` int64 class indices on the scores' device, best first.
    """
    if scores.dim() != 2:
        raise ValueError(f'scores must be a 2-D (N, C) tensor, got shape {tuple(scores.shape)}')
    num_classes = scores.size(1)
    k = min(int(k), num_classes)
    if k < num_classes:
        vals, idx = scores.topk(k + 1, dim=1)
        across_cut = vals[:, k - 1] == vals[:, k]
        vals, idx = vals[:, :k], idx[:, :k]
    else:
        vals, idx = scores.sort(dim=1, descending=True, stable=True)
        across_cut = None
    # canonical order inside the kept set: index ascending, then a stable sort by score
    order = idx.argsort(dim=1)
    idx, vals = idx.gather(1, order), vals.gather(1, order)
    order = vals.argsort(dim=1, descending=True, stable=True)
    idx, vals = idx.gather(1, order), vals.gather(1, order)
    if across_cut is not None and bool(across_cut.any()):
        rows = across_cut.nonzero().squeeze(1)
        idx[rows] = _lowest_tied(scores[rows], vals[rows], idx[rows])
    return idx


def _lowest_tied(scores: torch.Tensor, vals: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
    """Refill the tied tail of each row with the lowest class indices having the cut score."""
    num_classes, k = scores.size(1), vals.size(1)
    cut = vals[:, -1:]
    num_above = (vals > cut).sum(1, keepdim=True)
    # a larger key for a lower index, so topk over the key lists tied classes by index
    key = torch.arange(num_classes, 0, -1, device=scores.device, dtype=torch.int32)
    key = torch.where(scores == cut, key, torch.zeros_like(key))
    tied = key.topk(k, dim=1).indices
    slot = torch.arange(k, device=scores.device).unsqueeze(0)
    from_tied = tied.gather(1, (slot - num_above).clamp(min=0))
    return torch.where(slot < num_above, idx, from_tied)


def shot_masks(train_counts: np.ndarray, many_shot_thr: int,
               few_shot_thr: int) -> Dict[str, np.ndarray]:
    """Split classes by training-set size.

    Args:
        train_counts (np.ndarray): Training images per class.
        many_shot_thr (int): ``many``: more than this many training images.
        few_shot_thr (int): ``few``: fewer than this many; ``medium`` is everything between,
            both bounds included.

    Returns:
        dict: ``{'many': bool mask, 'medium': bool mask, 'few': bool mask}``.
    """
    many = train_counts > many_shot_thr
    few = train_counts < few_shot_thr
    return {'many': many, 'medium': ~many & ~few, 'few': few}


def long_tail_metrics(pred: np.ndarray, gt: np.ndarray, topk: Sequence[int] = (1, 5),
                      num_classes: Optional[int] = None,
                      train_counts: Optional[np.ndarray] = None, many_shot_thr: int = 100,
                      few_shot_thr: int = 20) -> Tuple[Dict[str, float], Dict[str, np.ndarray]]:
    """Compute overall, class-averaged and shot-group accuracies.

    Classes without any evaluated sample are left out of ``mean_class_*`` and of the shot
    groups (MMPretrain's macro average would count them as 0). A shot group with no evaluated
    class reports NaN, so the set of keys does not depend on the split.

    Args:
        pred (np.ndarray): ``(N, K)`` predicted classes, best first, ``K >= max(topk)`` unless
            there are fewer classes.
        gt (np.ndarray): ``(N,)`` true classes.
        topk (Sequence[int]): Which top-k accuracies to report. Defaults to ``(1, 5)``.
        num_classes (int, optional): Number of classes. Defaults to ``len(train_counts)`` or
            ``max label + 1``.
        train_counts (np.ndarray, optional): Training images per class; without them the shot
            metrics are not reported. Defaults to None.
        many_shot_thr (int): See :func:`shot_masks`. Defaults to 100.
        few_shot_thr (int): See :func:`shot_masks`. Defaults to 20.

    Returns:
        tuple: ``(metrics, per_class)``: metrics ``top{k}``, ``top1_error``,
        ``mean_class_acc``, ``mean_class_error``, ``{many,medium,few}_shot_acc`` in percent;
        per_class arrays ``eval_count``, ``correct``, ``top1_acc`` (percent, NaN for absent
        classes) and ``train_count`` (-1 where unknown).
    """
    pred = np.asarray(pred).reshape(len(gt), -1)
    gt = np.asarray(gt, dtype=np.int64).reshape(-1)
    if num_classes is None:
        num_classes = len(train_counts) if train_counts is not None else int(
            max(gt.max(initial=-1), pred.max(initial=-1)) + 1)
    _check_range(gt, num_classes, 'ground-truth label')
    _check_range(pred, num_classes, 'predicted label')
    if train_counts is not None and len(train_counts) != num_classes:
        raise ValueError(f'train_counts must have one entry per class ({num_classes}), '
                         f'got {len(train_counts)}')
    num = len(gt)
    metrics = {}
    for k in sorted(set(topk) | {1}):
        hit = (pred[:, :k] == gt[:, None]).any(axis=1)
        metrics[f'top{k}'] = 100.0 * hit.sum() / num if num else math.nan
    metrics['top1_error'] = 100.0 - metrics['top1']

    eval_count = np.bincount(gt, minlength=num_classes)
    correct = np.bincount(gt[pred[:, 0] == gt], minlength=num_classes)
    present = eval_count > 0
    with np.errstate(invalid='ignore', divide='ignore'):
        class_acc = np.where(present, 100.0 * correct / eval_count, np.nan)
    metrics['mean_class_acc'] = _mean(class_acc[present])
    metrics['mean_class_error'] = 100.0 - metrics['mean_class_acc']
    if train_counts is not None:
        train_counts = np.asarray(train_counts, dtype=np.int64)
        for name, mask in shot_masks(train_counts, many_shot_thr, few_shot_thr).items():
            metrics[f'{name}_shot_acc'] = _mean(class_acc[mask & present])
    per_class = dict(
        train_count=(train_counts if train_counts is not None else np.full(
            num_classes, -1, dtype=np.int64)),
        eval_count=eval_count.astype(np.int64),
        correct=correct.astype(np.int64),
        top1_acc=class_acc)
    return {k: float(v) for k, v in metrics.items()}, per_class


def _mean(values: np.ndarray) -> float:
    return float(values.mean()) if values.size else math.nan


def _check_range(labels: np.ndarray, num_classes: int, what: str) -> None:
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        bad = labels[(labels < 0) | (labels >= num_classes)].flat[0]
        raise ValueError(f'{what} {int(bad)} is outside [0, {num_classes}): expected labels of '
                         f'the {num_classes} classes the training counts / dataset define')
