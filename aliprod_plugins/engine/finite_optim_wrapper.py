"""Optimizer wrappers that never let a NaN or an infinity into the weights.

MMEngine's ``OptimWrapper`` steps whatever the gradients hold: one non-finite loss makes every
weight NaN and the run carries on for days. :class:`FiniteOptimWrapper` (fp32) and
:class:`FiniteAmpOptimWrapper` (``torch.amp``, fp16 / bf16) check each update first:

- the loss of every backward pass of the update (all ranks agree: one small all-reduce) and,
  without an active loss scaler, the gradient norm; when either is NaN / inf the optimizer step
  is skipped, so the weights, momentum and weight decay are untouched;
- skipped steps are counted in the message hub as ``train/nonfinite_steps``, which MMEngine's
  ``LoggerHook`` prints in every training log line (the count survives ``--resume``);
- after ``max_consecutive_nonfinite`` skipped steps in a row the run stops with
  :class:`NonFiniteLossError`, naming the iteration and the last checkpoint to go back to;
- with fp16 (an active ``GradScaler``) an overflow of the *scaled* gradients is the scaler's
  normal way of finding its scale: that step is skipped by the scaler and counted apart as
  ``train/overflow_steps``, never as a failure.

One host synchronisation per optimizer step, no more: the loss flag, the gradient-norm flag
and :class:`PreemptionHook`'s signal flag travel in one small tensor, through one all-reduce
(several ranks) and one ``tolist()``; the norm itself reaches the host only to name it when a
step is skipped (``tests/test_engine/test_host_syncs.py`` counts them).

Configs::

    optim_wrapper = dict(type='FiniteOptimWrapper', optimizer=dict(type='SGD', lr=0.5))
    optim_wrapper = dict(type='FiniteAmpOptimWrapper', dtype='bfloat16')  # or loss_scale=...
"""
import logging
import math
from typing import Optional

import torch
from mmengine.dist import all_reduce, get_world_size
from mmengine.logging import print_log
from mmengine.optim import AmpOptimWrapper, OptimWrapper
from mmpretrain.registry import OPTIM_WRAPPERS

from ..checks import check_int
from ..upstream import private_attr
from .atomic_checkpoint import read_last_checkpoint

#: ``--amp`` maps a wrapper type to its mixed-precision counterpart
AMP_WRAPPER_OF = {
    'OptimWrapper': 'AmpOptimWrapper',
    'AmpOptimWrapper': 'AmpOptimWrapper',
    'FiniteOptimWrapper': 'FiniteAmpOptimWrapper',
    'FiniteAmpOptimWrapper': 'FiniteAmpOptimWrapper',
}


class NonFiniteLossError(RuntimeError):
    """Too many consecutive optimizer steps had a non-finite loss or gradient norm."""


class FiniteStepMixin:
    """Bookkeeping shared by the two wrappers: loss checks, counters, the stop rule.

    Comes first in the wrappers' bases: its ``__init__`` and ``backward`` wrap the
    ``OptimWrapper`` / ``AmpOptimWrapper`` ones.
    """

    def __init__(self, max_consecutive_nonfinite: int = 20, **kwargs) -> None:
        super().__init__(**kwargs)
        self._init_finite(max_consecutive_nonfinite)

    def backward(self, loss: torch.Tensor, **kwargs) -> None:
        """Note whether ``loss`` is finite, then back-propagate (scaled, under AMP)."""
        self._record_loss(loss)
        super().backward(loss, **kwargs)

    def _init_finite(self, max_consecutive_nonfinite: int) -> None:
        check_int('max_consecutive_nonfinite', max_consecutive_nonfinite, low=1,
                  owner=type(self).__name__)
        self.max_consecutive_nonfinite = max_consecutive_nonfinite
        self.consecutive_nonfinite = 0
        self.nonfinite_steps: Optional[int] = None  # read from the message hub on first use
        self.overflow_steps: Optional[int] = None
        self._loss_ok: Optional[torch.Tensor] = None
        self._last_loss: Optional[torch.Tensor] = None
        # PreemptionHook attaches itself: its flag rides on this step's collective and sync
        self.preemption = None

    def _record_loss(self, loss: torch.Tensor) -> None:
        """Remember (without a device sync) whether this backward pass's loss is finite."""
        ok = torch.isfinite(loss.detach()).all()
        self._loss_ok = ok if self._loss_ok is None else self._loss_ok & ok
        self._last_loss = loss.detach()

    def _nonfinite_flags(self, check_grads: bool) -> tuple:
        """``(loss non-finite, grad norm non-finite, grad norm)``, agreed on by all ranks.

        The step's one host synchronisation; the attached :class:`PreemptionHook`'s flag rides
        along (its ``agreed`` is set to what all ranks decided). The norm stays a tensor.
        """
        loss_ok, self._loss_ok = self._loss_ok, None
        grads = [p.grad for group in self.optimizer.param_groups for p in group['params']
                 if p.grad is not None]
        device = grads[0].device if grads else (
            loss_ok.device if loss_ok is not None else torch.device('cpu'))
        preemption = self.preemption
        flags = torch.zeros(3, device=device)
        if loss_ok is not None:
            flags[0] = (~loss_ok).float().to(device)
        norm = None
        if check_grads and grads:
            norm = torch.nn.utils.get_total_norm(grads, error_if_nonfinite=False)
            flags[1] = (~torch.isfinite(norm)).float().to(device)
        if preemption is not None and preemption.received is not None:
            flags[2] = 1.0
        if get_world_size() > 1:
            all_reduce(flags, op='sum')  # a loss is per rank: skip everywhere or nowhere
        loss_bad, grad_bad, preempt = (bool(v) for v in flags.tolist())
        if preemption is not None:
            preemption.agreed = preempt
        return loss_bad, grad_bad, norm

    def _count(self, name: str) -> int:
        value = getattr(self, name)
        if value is None:  # first step of this process: continue a resumed run's count
            history = self.message_hub.log_scalars.get(f'train/{name}')
            value = int(history.current()) if history is not None else 0
        return value

    def _publish_counts(self) -> None:
        self.nonfinite_steps = self._count('nonfinite_steps')
        self.message_hub.update_scalar('train/nonfinite_steps', self.nonfinite_steps)

    def _on_finite_step(self) -> None:
        if self.consecutive_nonfinite:
            print_log(f'finite loss and gradients again after {self.consecutive_nonfinite} '
                      'skipped step(s)', logger='current')
        self.consecutive_nonfinite = 0
        self._publish_counts()

    def _on_nonfinite_step(self, loss_bad: bool, grad_bad: bool,
                           grad_norm: Optional[torch.Tensor]) -> None:
        self.nonfinite_steps = self._count('nonfinite_steps') + 1
        self.consecutive_nonfinite += 1
        self.message_hub.update_scalar('train/nonfinite_steps', self.nonfinite_steps)
        what = self._describe(loss_bad, grad_bad, grad_norm)
        iteration = self._iteration()
        if self.consecutive_nonfinite >= self.max_consecutive_nonfinite:
            first = iteration - self.consecutive_nonfinite + 1
            raise NonFiniteLossError(
                f'the loss is non-finite: {self.consecutive_nonfinite} consecutive optimizer '
                f'steps (iterations {first}-{iteration}) had {what}; stopping at iteration '
                f'{iteration} (max_consecutive_nonfinite={self.max_consecutive_nonfinite}). '
                f'These steps were skipped, the weights are those of iteration {first - 1}. '
                f'Last good checkpoint: {self._last_checkpoint()}. Lower the learning rate or '
                'check the data, then continue with --resume.')
        if self.consecutive_nonfinite == 1:
            print_log(f'iteration {iteration}: {what}; optimizer step skipped (weights and '
                      'momentum unchanged)', logger='current', level=logging.WARNING)

    def _describe(self, loss_bad: bool, grad_bad: bool,
                  grad_norm: Optional[torch.Tensor]) -> str:
        parts = []
        if loss_bad:
            loss = self._last_loss
            value = loss.float().flatten()[0].item() if loss is not None and loss.numel() else None
            shown = f' ({value})' if value is not None and not math.isfinite(value) else ''
            parts.append(f'a non-finite loss{shown}')
        if grad_bad:
            shown = float(grad_norm) if grad_norm is not None else None  # a skipped step only
            parts.append(f'a non-finite gradient norm ({shown})')
        return ' and '.join(parts) or 'a non-finite loss on another rank'

    def _iteration(self) -> int:
        """The 1-based training iteration, as the log lines and ``iter_N.pth`` count it."""
        return int(self.message_hub.get_info('iter', -1)) + 1

    def _last_checkpoint(self) -> str:
        work_dir = self.message_hub.get_info('work_dir')
        named = read_last_checkpoint(work_dir) if work_dir is not None else None
        return named or self.message_hub.get_info('last_ckpt') or 'none saved yet in this work dir'


@OPTIM_WRAPPERS.register_module()
class FiniteOptimWrapper(FiniteStepMixin, OptimWrapper):
    """``OptimWrapper`` that skips steps with a non-finite loss or gradient norm.

    Args:
        max_consecutive_nonfinite (int): Stop with :class:`NonFiniteLossError` after this many
            skipped steps in a row. Defaults to 20.
        **kwargs: :class:`mmengine.optim.OptimWrapper`'s arguments (``optimizer``,
            ``accumulative_counts``, ``clip_grad``).
    """

    def step(self, **kwargs) -> None:
        """Step (clipping first, as configured) only if loss and gradient norm are finite."""
        loss_bad, grad_bad, norm = self._nonfinite_flags(check_grads=True)
        if loss_bad or grad_bad:
            self._on_nonfinite_step(loss_bad, grad_bad, norm)
            return
        super().step(**kwargs)
        self._on_finite_step()


@OPTIM_WRAPPERS.register_module()
class FiniteAmpOptimWrapper(FiniteStepMixin, AmpOptimWrapper):
    """``AmpOptimWrapper`` that skips steps with a non-finite loss; fp16 overflows counted apart.

    The loss is checked as in :class:`FiniteOptimWrapper`. With an active loss scaler the
    gradients are left to it: a step it skips because the scaled gradients overflowed counts
    as ``train/overflow_steps`` (not a failure, not part of a non-finite streak). Without one
    (a disabled scaler) the gradient norm is checked as in fp32.

    Args:
        max_consecutive_nonfinite (int): See :class:`FiniteOptimWrapper`. Defaults to 20.
        **kwargs: :class:`mmengine.optim.AmpOptimWrapper`'s arguments (``loss_scale``,
            ``dtype``, ``optimizer``, ...).
    """

    def step(self, **kwargs) -> None:
        """Skip on a non-finite loss; otherwise let the scaler step and count its overflows."""
        scaler = self.loss_scaler
        scaling = scaler.is_enabled()
        loss_bad, grad_bad, norm = self._nonfinite_flags(check_grads=not scaling)
        if loss_bad or grad_bad:
            # nothing was unscaled or stepped: the scaler's state for this step stays clean
            self._on_nonfinite_step(loss_bad, grad_bad, norm)
            return
        if not scaling:
            super().step(**kwargs)
            self._on_finite_step()
            return
        if self.clip_grad_kwargs:
            scaler.unscale_(self.optimizer)
            self._clip_grad()
        scale = scaler.get_scale()
        scaler.step(self.optimizer, **kwargs)
        overflow = _scaler_found_inf(scaler, self.optimizer)
        scaler.update(self._scale_update_param)
        if overflow is None:  # torch without per-optimizer state: a dynamic scale backs off
            overflow = scaler.get_scale() < scale
        self.overflow_steps = self._count('overflow_steps') + int(overflow)
        self.message_hub.update_scalar('train/overflow_steps', self.overflow_steps)
        if overflow:  # not a failure: a non-finite streak neither grows nor ends here
            self._publish_counts()
        else:
            self._on_finite_step()


def _scaler_found_inf(scaler, optimizer) -> Optional[bool]:
    """Whether ``scaler.step`` found inf/NaN gradients (between ``step`` and ``update``)."""
    try:  # a missing method is an upstream change (raised); no state yet is not
        found = private_attr(scaler, '_found_inf_per_device')(optimizer)
    except KeyError:
        return None
    return bool(sum(v.item() for v in found.values()))
