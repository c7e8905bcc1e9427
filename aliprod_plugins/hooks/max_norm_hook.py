"""MaxNorm for weight balancing (Alshammari et al., "Long-Tailed Recognition via Weight
Balancing", CVPR 2022): after every optimizer step, project each class's classifier weight
vector back into the L2 ball of radius ``thresh`` (projected gradient descent)::

    custom_hooks = [dict(type='MaxNormHook', thresh=0.1, mode='relative')]

As in the authors' ``MaxNorm_via_PGD``, only the weight matrix is constrained: the bias is
1-D and their code gives 1-D parameters an infinite threshold, so it is left as it is. Their
threshold is relative (``mode='relative'``): ``min + thresh * (max - min)`` of the row norms at
the first projection (here: at the start of training, after ``load_from``), fixed from then
on; ``mode='absolute'`` uses ``thresh`` itself. The fixed threshold is kept in the
checkpoint's ``meta['max_norm_thresh']``, so a resumed run projects to the same ball.
"""
from typing import Optional

import torch
from mmengine.hooks import Hook
from mmpretrain.registry import HOOKS

from aliprod_plugins.checks import check_number
from aliprod_plugins.engine.runner_parts import unwrap_model

MODES = ('absolute', 'relative')


@torch.no_grad()
def project_rows_(weight: torch.Tensor, thresh) -> None:
    """Scale every row of ``weight`` whose L2 norm exceeds ``thresh`` down to ``thresh``.

    Vectorised, in place, on the weight's device, without a host sync. Rows at or under the
    threshold are multiplied by exactly 1 (unchanged bit for bit); zero rows stay zero.

    Args:
        weight (torch.Tensor): ``(C, ...)``: one row per class (a linear or conv weight).
        thresh (float | torch.Tensor): The largest norm allowed (a 0-d tensor or a float).
    """
    rows = weight.reshape(weight.size(0), -1)
    norms = torch.linalg.vector_norm(rows, dim=1, keepdim=True)
    # thresh / 0 = inf for zero rows: clamped to 1 like every row under the threshold
    scale = (thresh / norms).clamp_(max=1.0)
    rows.mul_(scale)
    if rows.data_ptr() != weight.data_ptr():  # reshape copied (non-contiguous weight)
        weight.copy_(rows.view_as(weight))


@HOOKS.register_module()
class MaxNormHook(Hook):
    """Project the classifier's per-class weight vectors to an L2 norm <= a threshold.

    Args:
        thresh (float): The radius (``mode='absolute'``) or its place between the smallest and
            the largest row norm at the start of training (``mode='relative'``, as the
            authors' code). Defaults to 0.1.
        mode (str): ``'absolute'`` or ``'relative'``. Defaults to 'relative'.
        param (str): Name of the weight in the model. Defaults to 'head.fc.weight'.
    """

    # after the optimizer step, before EMAHook (NORMAL) and checkpointing (VERY_LOW)
    priority = 'ABOVE_NORMAL'

    def __init__(self, thresh: float = 0.1, mode: str = 'relative',
                 param: str = 'head.fc.weight') -> None:
        if mode not in MODES:
            raise ValueError(f'MaxNormHook: mode must be one of {MODES}, got {mode!r}')
        thresh = check_number('thresh', thresh, low=0, high=1 if mode == 'relative' else None,
                              owner=f'MaxNormHook(mode={mode!r})')
        self.thresh, self.mode, self.param = thresh, mode, param
        self._radius: Optional[torch.Tensor] = None
        self._loaded_radius: Optional[float] = None

    def before_train(self, runner) -> None:
        """Fix the radius (after ``load_from`` / resume) and project once."""
        weight = self._weight(runner)
        # a resumed run (iter > 0) keeps the radius it was using; a new run (iter 0, also after
        # load_from) fixes its own from the weights it starts with
        if runner.iter == 0 or self._loaded_radius is None:
            self._radius = self._initial_radius(weight)
        else:
            self._radius = torch.tensor(self._loaded_radius)
        self._radius = self._radius.to(weight.device)
        project_rows_(weight, self._radius)

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        """Project after the step (idempotent when the step was skipped or accumulated)."""
        project_rows_(self._weight(runner), self._radius)

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        """Keep the fixed radius with the weights it constrains."""
        if self._radius is not None:
            checkpoint.setdefault('meta', {})['max_norm_thresh'] = float(self._radius)

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        """Remember the radius of the run that saved the checkpoint (used on resume)."""
        radius = (checkpoint.get('meta') or {}).get('max_norm_thresh')
        self._loaded_radius = None if radius is None else float(radius)

    def _initial_radius(self, weight: torch.Tensor) -> torch.Tensor:
        if self.mode == 'absolute':
            return torch.tensor(self.thresh, device=weight.device)
        norms = torch.linalg.vector_norm(weight.detach().reshape(weight.size(0), -1), dim=1)
        return norms.min() + self.thresh * (norms.max() - norms.min())

    def _weight(self, runner) -> torch.Tensor:
        model = unwrap_model(runner.model)
        try:
            weight = model.get_parameter(self.param)
        except AttributeError as err:
            raise ValueError(f'MaxNormHook: the model has no parameter {self.param!r} (set '
                             f'`param` to the classifier weight): {err}') from None
        if weight.dim() < 2:
            raise ValueError(f'MaxNormHook: {self.param!r} must have one row per class '
                             f'(2-D or more), got shape {tuple(weight.shape)}')
        return weight
