"""Post-hoc classifier calibration for long-tailed data: tau-normalisation, logit adjustment.

* tau-normalisation (Kang et al., "Decoupling Representation and Classifier for Long-Tailed
  Recognition", ICLR 2020): ``w_c <- w_c / ||w_c|| ** tau``, bias dropped. ``tau = 0`` keeps
  the weights, ``tau = 1`` gives every class a unit-norm weight.
* post-hoc logit adjustment (Menon et al., "Long-tail learning via logit adjustment", ICLR
  2021): ``logit_c <- logit_c - tau * log(prior_c)``, the prior being the training class
  frequencies (classes without training images count as one image). It folds into the bias.

Both are evaluated from features computed once: one matrix product per tau.
"""
import math
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch

from .functional import long_tail_metrics, topk_labels

MODES = ('tau_norm', 'logit_adjust')


def tau_normalized_weight(weight: torch.Tensor, tau: float) -> torch.Tensor:
    """Return ``weight`` with each class row divided by its L2 norm to the power ``tau``."""
    norms = weight.norm(dim=1, keepdim=True).clamp_min(1e-12)
    return weight / norms.pow(tau)


def log_prior(train_counts: np.ndarray) -> torch.Tensor:
    """Log of the training class frequencies, empty classes counted as one image."""
    counts = np.maximum(np.asarray(train_counts, dtype=np.float64), 1.0)
    return torch.from_numpy(np.log(counts / counts.sum()))


def calibrated_head(weight: torch.Tensor, bias: Optional[torch.Tensor], tau: float,
                    mode: str = 'tau_norm',
                    train_counts: Optional[np.ndarray] = None
                    ) -> Tuple[torch.Tensor, torch.Tensor]:
    """Return the ``(weight, bias)`` of the calibrated linear classifier.

    Args:
        weight (torch.Tensor): ``(C, D)`` classifier weight.
        bias (torch.Tensor, optional): ``(C,)`` bias.
        tau (float): Strength of the calibration.
        mode (str): ``'tau_norm'`` (bias becomes zero) or ``'logit_adjust'`` (weight kept,
            ``bias - tau * log(prior)``). Defaults to ``'tau_norm'``.
        train_counts (np.ndarray, optional): Training images per class, for logit adjustment.

    Returns:
        tuple: ``(weight, bias)``.
    """
    if mode not in MODES:
        raise ValueError(f'mode must be one of {MODES}, got {mode!r}')
    if bias is None:
        bias = torch.zeros(weight.size(0), dtype=weight.dtype, device=weight.device)
    if mode == 'tau_norm':
        return tau_normalized_weight(weight, tau), torch.zeros_like(bias)
    if train_counts is None:
        raise ValueError('logit adjustment needs the training class counts, got None')
    if len(train_counts) != weight.size(0):
        raise ValueError(f'train_counts must have one entry per class ({weight.size(0)}), got '
                         f'{len(train_counts)}')
    return weight, bias - tau * log_prior(train_counts).to(bias)


def predict_topk(feats: torch.Tensor, weight: torch.Tensor, bias: Optional[torch.Tensor],
                 k: int, chunk_elems: int = 1 << 24) -> np.ndarray:
    """Top-k classes of ``feats @ weight.T + bias``, a few rows at a time.

    Returns:
        np.ndarray: ``(N, min(k, C))`` int32 labels, best first, ties to the lower index.
    """
    rows = max(1, chunk_elems // max(1, weight.size(0)))
    out = []
    for start in range(0, feats.size(0), rows):
        logits = feats[start:start + rows].to(weight) @ weight.t()
        if bias is not None:
            logits += bias
        out.append(topk_labels(logits, k).to(device='cpu', dtype=torch.int32))
    if not out:
        return np.zeros((0, min(k, weight.size(0))), dtype=np.int32)
    return torch.cat(out).numpy()


def sweep(feats: torch.Tensor, gt: np.ndarray, weight: torch.Tensor,
          bias: Optional[torch.Tensor], taus: Sequence[float], mode: str = 'tau_norm',
          train_counts: Optional[np.ndarray] = None, topk: Sequence[int] = (1, 5),
          many_shot_thr: int = 100, few_shot_thr: int = 20) -> List[Dict]:
    """Evaluate the calibrated classifier for each tau on precomputed features.

    Args:
        feats (torch.Tensor): ``(N, D)`` classifier inputs.
        gt (np.ndarray): ``(N,)`` true classes.
        weight, bias: The trained linear classifier.
        taus (Sequence[float]): Values to try.
        mode (str): See :func:`calibrated_head`. Defaults to ``'tau_norm'``.
        train_counts (np.ndarray, optional): For logit adjustment and the shot groups.
        topk, many_shot_thr, few_shot_thr: As in ``LongTailAccuracy``.

    Returns:
        list[dict]: Per tau: ``{'tau', 'metrics', 'per_class'}``.
    """
    rows = []
    for tau in taus:
        w, b = calibrated_head(weight, bias, float(tau), mode, train_counts)
        pred = predict_topk(feats, w, b, max(topk))
        metrics, per_class = long_tail_metrics(pred, gt, topk, weight.size(0), train_counts,
                                               many_shot_thr, few_shot_thr)
        rows.append({'tau': float(tau), 'metrics': metrics, 'per_class': per_class})
    return rows


def best_index(rows: Sequence[Dict], key: str = 'mean_class_acc') -> int:
    """Index of the row with the highest ``metrics[key]``; the first one on ties."""
    values = [r['metrics'].get(key, math.nan) for r in rows]
    if not values or all(math.isnan(v) for v in values):
        raise ValueError(f'no row has a {key!r} value to select by')
    return int(np.nanargmax(np.asarray(values, dtype=np.float64)))
