"""Balanced Softmax / logit-adjusted cross-entropy for long-tailed training.

Ren et al., "Balanced Meta-Softmax for Long-Tailed Visual Recognition", NeurIPS 2020, and
Menon et al., "Long-tail learning via logit adjustment", ICLR 2021: during training the logits
are shifted by ``tau * log(prior_c)`` before the softmax cross-entropy, so a head class must
win by a larger margin; at test time the model's own (unshifted) logits are used, which makes
them an estimate of the class-balanced posterior. ``tau = 1`` is Balanced Softmax.

The prior is the training set's class frequency **after** capping, set at run time by
:class:`~aliprod_plugins.models.ClassPriorHook` (no counts are typed into configs)::

    model = dict(head=dict(loss=dict(type='BalancedSoftmaxLoss', tau=1.0)))
    custom_hooks = [dict(type='ClassPriorHook'), ...]

Classes without training images count as one image (as in ``tools/tau_norm.py
--logit-adjust``): their logit gets the smallest finite shift, so they stay ordinary negatives
of every softmax (their scores are still pushed down and no ``-inf`` / NaN can appear with soft
targets). ``log(0) = -inf`` would instead drop them from the training softmax and leave their
classifier rows untouched.
"""
from typing import Optional

import numpy as np
import torch
import torch.nn.functional as F
from mmpretrain.models.losses.utils import weight_reduce_loss
from mmpretrain.registry import MODELS
from torch import nn

from aliprod_plugins.checks import check_number
from aliprod_plugins.evaluation.calibration import log_prior
from aliprod_plugins.evaluation.train_counts import load_class_counts


@MODELS.register_module()
class BalancedSoftmaxLoss(nn.Module):
    """Cross-entropy on ``logits + tau * log(prior)``; the prior comes from the training set.

    Args:
        tau (float): Strength of the adjustment; 1.0 is Balanced Softmax, 0.0 plain
            cross-entropy. Defaults to 1.0.
        reduction (str): ``'none'``, ``'mean'`` or ``'sum'``. Defaults to ``'mean'``.
        loss_weight (float): Weight of the loss. Defaults to 1.0.
    """

    def __init__(self, tau: float = 1.0, reduction: str = 'mean',
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        check_number('tau', tau, low=0, owner='BalancedSoftmaxLoss')
        if reduction not in ('none', 'mean', 'sum'):
            raise ValueError(f"reduction must be 'none', 'mean' or 'sum', got {reduction!r}")
        self.tau = float(tau)
        self.reduction = reduction
        self.loss_weight = float(loss_weight)
        self.class_counts: Optional[np.ndarray] = None
        # not persistent: checkpoints stay loadable by models with plain cross-entropy; the
        # hook sets it again (and restores the counts from the checkpoint meta on resume)
        self.register_buffer('log_prior', torch.zeros(0), persistent=False)

    def set_class_counts(self, counts) -> None:
        """Set the training images per class (empty classes count as one image).

        Args:
            counts (Sequence[int] | np.ndarray): Training images of each class.
        """
        counts = load_class_counts(np.asarray(counts), 'BalancedSoftmaxLoss class counts')
        self.set_class_prior(counts)

    def set_class_prior(self, expected) -> None:
        """Set the prior from the expected labels of each class per epoch.

        ``ClassPriorHook`` passes the sampler's class probabilities times the epoch length
        (for an instance-balanced epoch: the class counts). Classes expected less than once
        count as once, as empty classes count as one image.

        Args:
            expected (Sequence[float] | np.ndarray): Expected labels of each class, >= 0.
        """
        expected = np.asarray(expected, dtype=np.float64)
        if expected.ndim != 1 or expected.size == 0 or not np.all(np.isfinite(expected)) \
                or (expected < 0).any():
            raise ValueError(f'BalancedSoftmaxLoss expects a non-empty 1-D array of finite '
                             f'label counts >= 0 per class, got {expected!r}')
        if expected.sum() == 0:
            raise ValueError(f'BalancedSoftmaxLoss expects class counts with at least one '
                             f'training image, got {len(expected)} zeros')
        self.class_counts = expected
        self.log_prior = log_prior(expected).float().to(self.log_prior.device)

    def forward(self,
                cls_score: torch.Tensor,
                label: torch.Tensor,
                weight: Optional[torch.Tensor] = None,
                avg_factor: Optional[int] = None,
                reduction_override: Optional[str] = None,
                **kwargs) -> torch.Tensor:
        """Loss of ``cls_score`` (N, C) for hard labels (N,) or soft targets (N, C)."""
        if self.log_prior.numel() == 0:
            raise RuntimeError(
                'BalancedSoftmaxLoss has no class prior: add dict(type="ClassPriorHook") to '
                'custom_hooks (it sets the training class counts before training), or call '
                'set_class_counts()')
        if self.log_prior.numel() != cls_score.size(-1):
            raise ValueError(f'BalancedSoftmaxLoss expects logits over the '
                             f'{self.log_prior.numel()} classes of its prior, got '
                             f'{cls_score.size(-1)} columns')
        reduction = reduction_override or self.reduction
        adjusted = cls_score + self.tau * self.log_prior.to(cls_score)
        if label.dim() == cls_score.dim() and label.shape == cls_score.shape:
            loss = -(label.to(adjusted) * F.log_softmax(adjusted, dim=-1)).sum(dim=-1)
        else:
            loss = F.cross_entropy(adjusted, label.reshape(-1).long(), reduction='none')
        if weight is not None:
            weight = weight.float()
        loss = weight_reduce_loss(loss, weight=weight, reduction=reduction,
                                  avg_factor=avg_factor)
        return self.loss_weight * loss

    def extra_repr(self) -> str:
        return f'tau={self.tau}, classes={self.log_prior.numel() or "not set"}'
