"""An epoch-based train loop that resumes in the middle of an epoch, bit for bit.

MMEngine 0.10.7's ``EpochBasedTrainLoop`` restores ``epoch`` and ``iter`` from a checkpoint and
starts the next epoch from its first batch, so a checkpoint taken mid-epoch (a preemption)
either repeats or loses that epoch's first part. This loop, set in the schedules' ``train_cfg``::

    train_cfg = dict(type='ResumableEpochBasedTrainLoop', max_epochs=40, val_interval=1)

keeps ``by_epoch`` semantics (``val_begin``, ``val_interval``, ``dynamic_intervals``) and adds:

- every checkpoint records whether it was taken inside the batch loop (``meta['mid_epoch']``,
  an explicit flag: a checkpoint saved at an epoch end, or again from validation by
  ``save_best``, resumes at the next epoch's first batch), how many batches of the epoch were
  done (``meta['inner_iter']``) and every rank's RNG states (``checkpoint['rng_state']``,
  gathered by :func:`rng_states_for_checkpoint` around each save), through
  :class:`LoopStateHook`;
- ``--resume`` starts the epoch at the next batch: our samplers skip the consumed indices
  (``set_start``) without loading an image, other samplers get their batches drawn and dropped;
- each rank's RNG states are restored at the boundary where they were captured (a checkpoint
  from another number of ranks resumes with fresh states and a warning), and validation and
  DataLoader iterator creation run under :func:`preserved_rng`, so neither moves the training
  stream;
- the samplers yield :class:`SampleKey` indices, so each sample is augmented from (seed, epoch,
  position) whatever worker loads it.

The loop registers :class:`LoopStateHook` and :class:`PreemptionHook` when the config does not.
"""
from contextlib import contextmanager
from typing import Dict, Iterable, Iterator, List, Optional, Tuple, Union

from mmengine.dist import get_rank, get_world_size
from mmengine.hooks import Hook
from mmengine.runner import EpochBasedTrainLoop
from mmpretrain.registry import HOOKS, LOOPS
from torch.utils.data import DataLoader

from ..checks import check_bool, check_int
from .rng_state import (gather_rng_states, get_rng_state, pack_rank_states, preserved_rng,
                        rank_rng_state, set_rng_state)
from .runner_parts import train_sampler


@LOOPS.register_module()
class ResumableEpochBasedTrainLoop(EpochBasedTrainLoop):
    """``EpochBasedTrainLoop`` with mid-epoch, bit-exact resume.

    Args:
        runner (Runner): The runner.
        dataloader (DataLoader | dict): The train dataloader or its config.
        max_epochs (int): Total training epochs.
        val_begin (int): First epoch that validates. Defaults to 1.
        val_interval (int): Validation interval. Defaults to 1.
        dynamic_intervals (list[tuple[int, int]], optional): ``(milestone, interval)`` pairs.
            Defaults to None.
    """

    def __init__(self,
                 runner,
                 dataloader: Union[DataLoader, Dict],
                 max_epochs: int,
                 val_begin: int = 1,
                 val_interval: int = 1,
                 dynamic_intervals: Optional[List[Tuple[int, int]]] = None) -> None:
        super().__init__(runner, dataloader, max_epochs, val_begin, val_interval,
                         dynamic_intervals)
        self._epoch_begin_iter = 0  # self._iter when the current epoch began
        self._resume_inner_iter = 0  # batches of the resumed epoch already done
        self._pending_rng: Optional[dict] = None  # restored at the captured boundary
        self._frozen_rng: Optional[dict] = None  # what a checkpoint saved now must record
        self._gathered_rng: Optional[list] = None  # every rank's, for the save in progress
        self._in_batches = False  # inside run_epoch's batch loop: a checkpoint is mid-epoch
        names = {type(hook).__name__ for hook in runner.hooks}
        for name in ('LoopStateHook', 'PreemptionHook'):
            if name not in names:
                runner.register_hook(dict(type=name))

    # what LoopStateHook saves and loads
    def gather_rng(self) -> None:
        """Collect every rank's RNG state for the checkpoint about to be saved (collective)."""
        own = self._frozen_rng if self._frozen_rng is not None else get_rng_state()
        self._gathered_rng = gather_rng_states(own)

    def drop_gathered_rng(self) -> None:
        """Forget the gathered states once the checkpoint is saved (never reused by another)."""
        self._gathered_rng = None

    def checkpoint_state(self, meta: dict) -> Tuple[int, bool, dict]:
        """Batches done in the epoch ``meta['epoch']`` names, whether that is mid-epoch, RNG.

        Returns:
            tuple: ``(inner_iter, mid_epoch, rng_state)``. ``mid_epoch`` is True only for a
            checkpoint taken inside the batch loop (an iteration checkpoint, a preemption);
            one taken at an epoch boundary (``after_train_epoch``, validation's ``save_best``,
            ``before_train_epoch``) resumes at the first batch of the epoch it names.
        """
        inner = int(meta['iter']) - self._epoch_begin_iter if self._in_batches else 0
        if self._gathered_rng is not None:
            rng = pack_rank_states(self._gathered_rng)
        else:  # saved by a path that did not gather: only this rank's state is known
            own = self._frozen_rng if self._frozen_rng is not None else get_rng_state()
            rng = pack_rank_states([own] + [None] * (get_world_size() - 1))
        return inner, self._in_batches, rng

    def load_checkpoint_state(self, inner_iter: int, mid_epoch: Optional[bool],
                              rng_state: Optional[dict]) -> None:
        """Resume ``inner_iter`` batches into the epoch, and restore this rank's RNG state there.

        Args:
            inner_iter (int): ``meta['inner_iter']``.
            mid_epoch (bool, optional): ``meta['mid_epoch']``; None for checkpoints written
                before the flag existed (their ``inner_iter`` is taken as it is).
            rng_state (dict, optional): ``checkpoint['rng_state']``.
        """
        check_int('meta["inner_iter"]', inner_iter, low=0, owner='checkpoint')
        check_bool('meta["mid_epoch"]', mid_epoch, allow_none=True, owner='checkpoint')
        self._resume_inner_iter = inner_iter if mid_epoch in (True, None) else 0
        self._pending_rng, why = rank_rng_state(rng_state, get_rank(), get_world_size())
        if why is not None:
            self.runner.logger.warning(f'{why}: training continues, but not bit-exactly')

    def run(self):
        """Train epochs; validation runs without moving the training RNG stream."""
        if len(self.dataloader) == 0:
            sampler = train_sampler(self.dataloader)
            raise ValueError(
                f'the train dataloader yields no batch: expected at least batch_size='
                f'{self.dataloader.batch_size} samples per rank with drop_last=True, got '
                f'{len(sampler) if sampler is not None else "?"} (dataset of '
                f'{len(self.dataloader.dataset)} samples, {get_world_size()} rank(s))')
        self.runner.call_hook('before_train')
        while self._epoch < self._max_epochs and not self.stop_training:
            self.run_epoch()
            self._decide_current_val_interval()
            if (self.runner.val_loop is not None and self._epoch >= self.val_begin
                    and (self._epoch % self.val_interval == 0
                         or self._epoch == self._max_epochs)):
                self._frozen_rng = get_rng_state()  # a best checkpoint records this boundary
                try:
                    with preserved_rng():
                        self.runner.val_loop.run()
                finally:
                    self._frozen_rng = None
        self.runner.call_hook('after_train')
        return self.runner.model

    def run_epoch(self) -> None:
        """Iterate one epoch, from batch ``inner_iter`` when resumed in its middle."""
        skip, self._resume_inner_iter = self._resume_inner_iter, 0
        if skip == 0:  # captured at the end of the previous epoch
            self._restore_rng()
        # before the hooks: one may save a checkpoint there (StageSwitchHook's stage-1 model)
        self._epoch_begin_iter = self._iter - skip
        self.runner.call_hook('before_train_epoch')
        self.runner.model.train()
        self._in_batches = True
        try:
            for idx, data_batch in self._batches(skip):
                self._restore_rng()  # captured after batch `skip - 1`: restore before `skip`
                self.run_iter(idx, data_batch)
        finally:
            self._in_batches = False
        self._restore_rng()  # resumed after the epoch's last batch
        sampler = train_sampler(self.dataloader)
        if getattr(sampler, 'start', 0):  # the next epoch starts at its beginning
            sampler.set_start(0)
        self.runner.call_hook('after_train_epoch')
        self._epoch += 1

    def _restore_rng(self) -> None:
        if self._pending_rng is not None:
            set_rng_state(self._pending_rng)
            self._pending_rng = None

    def _batches(self, skip: int) -> Iterable:
        """``enumerate`` over this epoch's batches from batch ``skip`` on."""
        loader = self.dataloader
        sampler = train_sampler(loader)
        if hasattr(sampler, 'sample_keys'):
            sampler.sample_keys = True
        batch_size = getattr(loader.batch_sampler, 'batch_size', None)
        fast = skip > 0 and hasattr(sampler, 'set_start') and batch_size is not None
        if fast:
            sampler.set_start(min(skip * batch_size, len(sampler)))
        with preserved_rng():  # the DataLoader draws its workers' base seed from torch
            batches = iter(loader)
        if skip and not fast:
            self.runner.logger.warning(
                f'{type(sampler).__name__} cannot start mid-epoch (no set_start): loading and '
                f'dropping {skip} batches to resume at batch {skip}')
            for _ in range(skip):
                next(batches)
        return enumerate(batches, start=skip)


@contextmanager
def rng_states_for_checkpoint(runner) -> Iterator[None]:
    """Around a ``runner.save_checkpoint`` call made on every rank: gather the ranks' RNG states.

    ``Runner.save_checkpoint`` runs on rank 0 only, so the other ranks' states are collected
    here, where every rank still takes part (``AtomicCheckpointHook``, ``save_best``,
    :func:`~aliprod_plugins.engine.save_checkpoint_atomic`). Does nothing unless the train
    loop is :class:`ResumableEpochBasedTrainLoop`.
    """
    loop = runner.train_loop
    if not isinstance(loop, ResumableEpochBasedTrainLoop):
        yield
        return
    loop.gather_rng()
    try:
        yield
    finally:
        loop.drop_gathered_rng()


@HOOKS.register_module()
class LoopStateHook(Hook):
    """Save and restore :class:`ResumableEpochBasedTrainLoop`'s position and RNG states.

    Writes ``meta['inner_iter']``, ``meta['mid_epoch']`` and ``checkpoint['rng_state']`` into
    every checkpoint; on
    ``--resume`` (not on ``load_from``) hands them back to the loop. Registered by the loop.
    """

    priority = 'VERY_HIGH'

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        """Record the loop's position inside the epoch and the RNG states."""
        loop = runner.train_loop
        if not isinstance(loop, ResumableEpochBasedTrainLoop):
            return
        meta = checkpoint.setdefault('meta', {})
        meta['inner_iter'], meta['mid_epoch'], checkpoint['rng_state'] = \
            loop.checkpoint_state(meta)

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        """On resume, tell the loop where in the epoch to start and what RNG state to use."""
        loop = runner._train_loop
        if not runner._resume or not isinstance(loop, ResumableEpochBasedTrainLoop):
            return
        meta = checkpoint.get('meta', {})
        loop.load_checkpoint_state(meta.get('inner_iter', 0), meta.get('mid_epoch'),
                                   checkpoint.get('rng_state'))
