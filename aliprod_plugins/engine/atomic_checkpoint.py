"""Save a running ``Runner``'s checkpoint atomically, and point ``last_checkpoint`` at it.

This is the one function every aliprod code path uses to write a checkpoint
(:class:`~aliprod_plugins.engine.AtomicCheckpointHook`, the stage-1 model kept by
``StageSwitchHook``, a checkpoint saved on a preemption signal)::

    from aliprod_plugins.engine import save_checkpoint_atomic
    path = save_checkpoint_atomic(runner, f'iter_{runner.iter + 1}.pth', by_epoch=False)
"""
import os.path as osp
from typing import Optional

from mmengine.dist import is_main_process

from .atomic_io import atomic_write_text
from .resumable_loop import rng_states_for_checkpoint

#: ``backend_args`` that make MMEngine's ``save_checkpoint`` write through
#: :class:`~aliprod_plugins.engine.atomic_io.AtomicLocalBackend`.
ATOMIC_BACKEND_ARGS = dict(backend='atomic_local')

#: Name of the pointer file MMEngine reads on ``--resume`` (in the work dir).
LAST_CHECKPOINT = 'last_checkpoint'


def write_last_checkpoint(work_dir: str, ckpt_path: str) -> None:
    """Atomically point ``WORK_DIR/last_checkpoint`` at ``ckpt_path`` (main process only).

    Args:
        work_dir (str): The run's work dir.
        ckpt_path (str): The checkpoint path written into the pointer, as MMEngine writes it.
    """
    if is_main_process():
        atomic_write_text(osp.join(work_dir, LAST_CHECKPOINT), ckpt_path)


def read_last_checkpoint(work_dir: str) -> Optional[str]:
    """Return the path ``WORK_DIR/last_checkpoint`` names ('' if empty), or None without one.

    Args:
        work_dir (str): The run's work dir.

    Returns:
        str or None: The named path, stripped of white space (undecodable bytes replaced);
        ``''`` for an empty pointer, None when there is no pointer file.
    """
    pointer = osp.join(work_dir, LAST_CHECKPOINT)
    if not osp.isfile(pointer):
        return None
    with open(pointer, encoding='utf-8', errors='replace') as f:
        return f.read().strip()


def save_checkpoint_atomic(runner,
                           filename: str,
                           *,
                           by_epoch: bool = True,
                           meta: Optional[dict] = None,
                           save_optimizer: bool = True,
                           save_param_scheduler: bool = True,
                           update_last: bool = True) -> str:
    """Save what ``runner.save_checkpoint`` saves to ``runner.work_dir/filename``, atomically.

    Goes through :meth:`mmengine.runner.Runner.save_checkpoint` (so every hook's
    ``before_save_checkpoint`` runs and the content is exactly MMEngine's), with the atomic
    local backend: the bytes go to a temporary file in the work dir, are fsynced and moved into
    place with ``os.replace``; then ``last_checkpoint`` is replaced the same way. A crash at any
    moment leaves the previous checkpoint and pointer intact. The message hub's ``last_ckpt``
    is set before saving, as ``CheckpointHook`` does.

    Call it on every rank (MMEngine saves on rank 0 only; the others just get the path).

    Args:
        runner (Runner): The running runner.
        filename (str): File name inside the work dir, e.g. ``'epoch_3.pth'``,
            ``'iter_1200.pth'`` or ``'stage1_final.pth'``.
        by_epoch (bool): How MMEngine fills ``meta['epoch']`` / ``meta['iter']`` when they are
            not in ``meta``: True after an epoch (epoch + 1, iter), False after an iteration
            (epoch, iter + 1). Same as ``Runner.save_checkpoint``. Defaults to True.
        meta (dict, optional): Extra meta; ``epoch`` / ``iter`` here take precedence (the
            resume code ranks checkpoints by ``meta['iter']``). Defaults to None.
        save_optimizer (bool): Save the optimizer state. Defaults to True.
        save_param_scheduler (bool): Save the schedulers' states. Defaults to True.
        update_last (bool): Point ``last_checkpoint`` at the new file. Defaults to True.

    Returns:
        str: The checkpoint's path (``osp.join(runner.work_dir, filename)``).
    """
    if osp.basename(filename) != filename or not filename:
        raise ValueError(f'filename must be a file name inside the work dir, got {filename!r}')
    path = osp.join(runner.work_dir, filename)
    if update_last:
        runner.message_hub.update_info('last_ckpt', path)
    with rng_states_for_checkpoint(runner):  # every rank's RNG state (a collective)
        runner.save_checkpoint(
            runner.work_dir,
            filename,
            save_optimizer=save_optimizer,
            save_param_scheduler=save_param_scheduler,
            meta=dict(meta or {}),
            by_epoch=by_epoch,
            backend_args=dict(ATOMIC_BACKEND_ARGS))
    if update_last:
        write_last_checkpoint(runner.work_dir, path)
    return path
