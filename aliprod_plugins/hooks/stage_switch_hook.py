"""Switch to the second stage of decoupled training inside one run (Kang et al., ICLR 2020).

At the start of epoch ``switch_epoch`` the hook rebuilds the train dataloader with a new sampler
(same dataset object, pipeline, batch size and workers; the sampler is built and checked
against the dataset before the first iteration of the run), sets the stage-2 learning rate and stops
the LR schedulers so that they cannot undo it, and optionally freezes the backbone and neck
(BatchNorm statistics included) and re-initialises the classifier (cRT)::

    custom_hooks = [dict(type='StageSwitchHook', switch_epoch=40,
                         sampler=dict(type='ClassBalancedSampler'), lr=1e-4)]

Resume-safe: the decision is taken from the current epoch at every ``before_train_epoch``, so a
run resumed at or after ``switch_epoch`` is in stage 2 before its first iteration. One-time
actions (``lr_mult``, head re-initialisation) are skipped when the resumed checkpoint records
that the switch already happened (``meta['stage_switch']``).

The model at the end of stage 1 is kept as ``WORK_DIR/stage1_final.pth`` (saved atomically just
before the switch, whatever the checkpoint interval; checkpoint rotation never removes it): the
input of ``tools/tau_norm.py``, a separate stage-2 run's ``load_from`` and ``tools/test.py``.
"""
import copy
from typing import List, Optional

from mmengine.hooks import Hook
from mmpretrain.registry import DATA_SAMPLERS, HOOKS
from torch import nn

from aliprod_plugins.checks import check_bool, check_int, check_number
from aliprod_plugins.engine.atomic_checkpoint import save_checkpoint_atomic
from aliprod_plugins.engine.runner_parts import unwrap_model
from .stage_switch_sampler import build_stage2_sampler, swap_train_sampler
from .stage_switch_utils import freeze_parts, reinit_head, set_stage2_lr

#: file name, in the work dir, of the model at the end of stage 1
STAGE1_CHECKPOINT = 'stage1_final.pth'


@HOOKS.register_module()
class StageSwitchHook(Hook):
    """Rebuild the sampler, set the LR and freeze / re-initialise parts at ``switch_epoch``.

    Args:
        switch_epoch (int): First epoch (0-based, as ``runner.epoch``) of stage 2; must lie
            inside the run.
        sampler (dict, optional): Config of the stage-2 sampler, built with the run's dataset
            and seed. None keeps the current sampler. Defaults to
            ``dict(type='ClassBalancedSampler')``.
        lr (float, optional): Absolute stage-2 learning rate of every parameter group.
            Defaults to None.
        lr_mult (float, optional): Multiplier of every group's current learning rate.
            Defaults to None. With ``lr`` or ``lr_mult`` set, all LR schedulers are stopped; with
            neither, the LR and the schedulers are left alone.
        freeze_backbone (bool): Stop gradients into the backbone and neck and keep their
            BatchNorm (and dropout) layers in eval mode. Under DDP the wrapper is then rebuilt
            without them, so they leave its buckets. Defaults to False. (A separate stage-2 run
            freezes at build time instead: the backbone's ``frozen_stages`` / ``norm_eval``.)
        reinit_head (bool): Re-initialise the head (``reset_parameters()`` then its
            ``init_cfg``) and drop its optimizer state. Defaults to False.
    """

    priority = 'ABOVE_NORMAL'  # before DistSamplerSeedHook, which then seeds the new sampler

    def __init__(self,
                 switch_epoch: int,
                 sampler: Optional[dict] = dict(type='ClassBalancedSampler'),
                 lr: Optional[float] = None,
                 lr_mult: Optional[float] = None,
                 freeze_backbone: bool = False,
                 reinit_head: bool = False) -> None:
        owner = 'StageSwitchHook'
        switch_epoch = check_int('switch_epoch', switch_epoch, low=0, owner=owner)
        if sampler is not None:
            if not isinstance(sampler, dict) or 'type' not in sampler:
                raise ValueError(f'sampler must be a config dict with a "type" key or None, '
                                 f'got {sampler!r}')
            if isinstance(sampler['type'], str) and DATA_SAMPLERS.get(sampler['type']) is None:
                raise ValueError(f'sampler type must be registered in DATA_SAMPLERS, got '
                                 f'{sampler["type"]!r}')
        if lr is not None and lr_mult is not None:
            raise ValueError(f'give only one of lr and lr_mult, got lr={lr!r} and '
                             f'lr_mult={lr_mult!r}')
        for name, value in (('lr', lr), ('lr_mult', lr_mult)):
            check_number(name, value, low=0, low_open=True, allow_none=True, owner=owner)
        for name, value in (('freeze_backbone', freeze_backbone), ('reinit_head', reinit_head)):
            check_bool(name, value, owner=owner)
        if (sampler is None and lr is None and lr_mult is None and not freeze_backbone
                and not reinit_head):
            raise ValueError('StageSwitchHook expects something to switch (sampler, lr, '
                             'lr_mult, freeze_backbone or reinit_head), got none')
        self.switch_epoch = switch_epoch
        self.sampler = copy.deepcopy(sampler)
        self.lr = lr
        self.lr_mult = lr_mult
        self.freeze_backbone = freeze_backbone
        self.reinit_head = reinit_head
        self._applied = False
        self._resumed_after_switch = False
        self._frozen: List[nn.Module] = []
        self._stage2_sampler = None

    @property
    def stage2_sampler(self):
        """The stage-2 sampler, built (and checked) in ``before_train``; None before."""
        return self._stage2_sampler

    def before_train(self, runner) -> None:
        """Check that the switch can happen in this run, with this model."""
        max_epochs = getattr(runner.train_loop, 'max_epochs', None)
        if max_epochs is None:
            raise ValueError(f'StageSwitchHook expects an epoch-based train loop, got '
                             f'{type(runner.train_loop).__name__}')
        if self.switch_epoch >= max_epochs:
            raise ValueError(f'switch_epoch must lie inside the run (0 <= switch_epoch < '
                             f'max_epochs={max_epochs}), got {self.switch_epoch}')
        model = self._model(runner)
        for option, part in (('freeze_backbone', 'backbone'), ('reinit_head', 'head')):
            if getattr(self, option) and not isinstance(getattr(model, part, None), nn.Module):
                raise ValueError(f'StageSwitchHook({option}=True) expects a model with a '
                                 f'`{part}` module, got {type(model).__name__} without one')
        if self.sampler is not None:
            self._stage2_sampler = self._build_sampler(runner)

    def before_train_epoch(self, runner) -> None:
        """Enter stage 2 at ``switch_epoch``, or at once when resumed past it."""
        if self._applied or runner.epoch < self.switch_epoch:
            return
        # a run resumed in the middle of the switch epoch itself has switched already
        first_time = not self._resumed_after_switch
        if first_time and runner.epoch == self.switch_epoch > 0:
            # the state of every end-of-stage-1 checkpoint: schedulers stepped, stage 2 not yet
            # applied (a run resumed from it switches as usual)
            path = save_checkpoint_atomic(
                runner, STAGE1_CHECKPOINT, meta=dict(epoch=runner.epoch, iter=runner.iter))
            runner.logger.info(f'StageSwitchHook: saved the stage-1 model to {path}')
        changes = []
        if self.sampler is not None:
            changes.append(self._switch_sampler(runner))
        if self.lr is not None or self.lr_mult is not None:
            changes.append(self._switch_lr(runner, apply_mult=first_time))
        model = self._model(runner)
        if self.freeze_backbone:
            changes.append(self._freeze(runner, model))
        if self.reinit_head and first_time:
            changes.append(self._reinit_head(runner, model.head))
        self._applied = True
        how = 'switched to' if first_time else 'restored (resumed after the switch)'
        runner.logger.info(f'StageSwitchHook: epoch {runner.epoch}: {how} stage 2: '
                           + '; '.join(changes))

    def before_train_iter(self, runner, batch_idx: int, data_batch=None) -> None:
        """Put frozen parts back in eval mode after ``model.train()`` (once per epoch)."""
        for module in self._frozen:
            if module.training:
                module.eval()

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        """Record in the checkpoint whether stage 2 has begun."""
        checkpoint.setdefault('meta', {})['stage_switch'] = dict(
            switch_epoch=self.switch_epoch, applied=self._applied)

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        """Read whether the loaded run had already switched (decides one-time actions)."""
        state = checkpoint.get('meta', {}).get('stage_switch') or {}
        self._resumed_after_switch = bool(state.get('applied', False))

    def _switch_sampler(self, runner) -> str:
        # built and checked against the dataset in before_train
        sampler = self._stage2_sampler or self._build_sampler(runner)
        return swap_train_sampler(runner, sampler)

    def _switch_lr(self, runner, apply_mult: bool) -> str:
        return set_stage2_lr(runner, self.lr, self.lr_mult, apply_mult)

    def _freeze(self, runner, model: nn.Module) -> str:
        self._frozen, message = freeze_parts(runner, model)
        return message

    def _build_sampler(self, runner):
        return build_stage2_sampler(runner, self.sampler, self.switch_epoch)

    def _reinit_head(self, runner, head: nn.Module) -> str:
        # seeded by (run seed, switch epoch): the same head on every rank and in a run resumed
        # before the switch, whatever the global RNG went through
        return reinit_head(runner, head, int(runner.seed or 0) * 1000003 + self.switch_epoch)

    @staticmethod
    def _model(runner) -> nn.Module:
        return unwrap_model(runner.model)
