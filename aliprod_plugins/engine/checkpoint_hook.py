"""``AtomicCheckpointHook``: a ``CheckpointHook`` that never leaves a run without a checkpoint.

MMEngine 0.10.7's ``CheckpointHook`` writes ``epoch_N.pth`` with a plain ``open(..., 'wb')``,
deletes the oldest checkpoint (``max_keep_ckpts``) *before* writing the new one, and writes
``last_checkpoint`` in place; a crash at the wrong moment leaves a truncated checkpoint, an
empty pointer and, with ``max_keep_ckpts=1``, nothing loadable. This subclass changes only that:

- checkpoints go through the ``atomic_local`` file backend (temporary file in the same folder,
  fsync, ``os.replace``, folder fsync) when the output folder is local;
- ``last_checkpoint`` is replaced atomically after the checkpoint is in place;
- rotation removes the outdated checkpoint only after both are in place, and the same holds
  for the previous ``best_*`` checkpoint of ``save_best``;
- every rank's RNG state is gathered for the checkpoint (``Runner.save_checkpoint`` runs on
  rank 0 only);
- with rotation on (``max_keep_ckpts > 0``) and epoch checkpoints, an epoch checkpoint in
  place also removes the preemption snapshots (``WORK_DIR/iter_N.pth`` of ``PreemptionHook``)
  it supersedes: those with N <= its iteration. With ``max_keep_ckpts=-1`` they are kept too.

Everything else (intervals, ``save_last``, ``save_best``, ``filename_tmpl``, resumed
``keep_ckpt_ids``) is MMEngine's code. Used by ``configs/_base_/default_runtime.py``::

    default_hooks = dict(checkpoint=dict(type='AtomicCheckpointHook', interval=1,
                                         max_keep_ckpts=3))
"""
import os
import os.path as osp
import re
from contextlib import contextmanager
from typing import Iterator, List

from mmengine.dist import is_main_process
from mmengine.fileio.io import _parse_uri_prefix
from mmengine.hooks import CheckpointHook
from mmpretrain.registry import HOOKS

from .atomic_checkpoint import ATOMIC_BACKEND_ARGS, write_last_checkpoint
from .resumable_loop import rng_states_for_checkpoint

#: file names of PreemptionHook's snapshots
SNAPSHOT = re.compile(r'iter_(\d+)\.pth')


@HOOKS.register_module()
class AtomicCheckpointHook(CheckpointHook):
    """``CheckpointHook`` with atomic writes and rotation after the new checkpoint is in place.

    Takes exactly :class:`mmengine.hooks.CheckpointHook`'s arguments. With no
    ``backend_args`` / ``file_client_args`` and a local ``out_dir`` (the default: the work
    dir), checkpoints are written with ``backend_args=dict(backend='atomic_local')``.
    """

    def before_train(self, runner) -> None:
        """Choose the atomic local backend, then set up as ``CheckpointHook`` does."""
        out_dir = self.out_dir if self.out_dir is not None else runner.work_dir
        if (self.backend_args is None and self.file_client_args is None
                and _parse_uri_prefix(str(out_dir)) == ''):
            self.backend_args = dict(ATOMIC_BACKEND_ARGS)
        super().before_train(runner)
        # where `last_checkpoint` lives, for FiniteOptimWrapper's error message
        runner.message_hub.update_info('work_dir', runner.work_dir, resumed=False)

    def _save_checkpoint_with_step(self, runner, step, meta) -> None:
        """MMEngine's method, reordered: save, point ``last_checkpoint``, then rotate."""
        outdated = None
        if self.max_keep_ckpts > 0 and not (self.keep_ckpt_ids
                                            and self.keep_ckpt_ids[-1] == step):
            if len(self.keep_ckpt_ids) == self.max_keep_ckpts:
                outdated = self.keep_ckpt_ids.popleft()
            self.keep_ckpt_ids.append(step)
            # recorded before saving, so the checkpoint itself lists what is kept
            runner.message_hub.update_info('keep_ckpt_ids', list(self.keep_ckpt_ids))

        ckpt_filename = self.filename_tmpl.format(step)
        self.last_ckpt = self.file_backend.join_path(self.out_dir, ckpt_filename)
        runner.message_hub.update_info('last_ckpt', self.last_ckpt)
        with rng_states_for_checkpoint(runner):  # every rank's RNG state (a collective)
            runner.save_checkpoint(
                self.out_dir,
                ckpt_filename,
                self.file_client_args,
                save_optimizer=self.save_optimizer,
                save_param_scheduler=self.save_param_scheduler,
                meta=meta,
                by_epoch=self.by_epoch,
                backend_args=self.backend_args,
                **self.args)
        if not is_main_process():
            return
        write_last_checkpoint(runner.work_dir, self.last_ckpt)
        if outdated is not None and outdated != step:
            self._remove(self.file_backend.join_path(self.out_dir,
                                                     self.filename_tmpl.format(outdated)))
        if self.max_keep_ckpts > 0 and self.by_epoch:
            self._remove_snapshots(runner, runner.iter)

    def _remove_snapshots(self, runner, done_iters: int) -> None:
        """Remove the preemption snapshots ``iter_N.pth`` (in the work dir) with N <= done_iters.

        Only ever local files: ``save_checkpoint_atomic`` writes them to ``runner.work_dir``.
        """
        work_dir = str(runner.work_dir)
        for name in sorted(os.listdir(work_dir) if osp.isdir(work_dir) else []):
            match = SNAPSHOT.fullmatch(name)
            path = osp.join(work_dir, name)
            if match and int(match.group(1)) <= done_iters and osp.isfile(path):
                os.remove(path)
                runner.logger.info(f'AtomicCheckpointHook: removed the preemption snapshot '
                                   f'{name}, superseded by {osp.basename(self.last_ckpt)}')

    def _save_best_checkpoint(self, runner, metrics) -> None:
        """MMEngine's method, with the previous best removed after the new best is saved."""
        with self._deferred_removal() as removed, rng_states_for_checkpoint(runner):
            super()._save_best_checkpoint(runner, metrics)
        if is_main_process():
            kept = {str(p) for p in self._best_paths()}
            for path in removed:
                if str(path) not in kept:  # a best checkpoint saved again under its old name
                    self._remove(path)

    def _remove(self, path) -> None:
        if self.file_backend.isfile(path):
            self.file_backend.remove(path)
        elif self.file_backend.isdir(path):  # checkpoints saved by DeepSpeed are folders
            self.file_backend.rmtree(path)

    def _best_paths(self) -> List:
        paths = [getattr(self, 'best_ckpt_path', None)]
        paths += list(getattr(self, 'best_ckpt_path_dict', {}).values())
        return [p for p in paths if p is not None]

    @contextmanager
    def _deferred_removal(self) -> Iterator[list]:
        """Make ``self.file_backend.remove`` / ``rmtree`` record paths instead of deleting."""
        removed: list = []
        backend = self.file_backend
        backend.remove, backend.rmtree = removed.append, removed.append
        try:
            yield removed
        finally:
            del backend.remove, backend.rmtree
