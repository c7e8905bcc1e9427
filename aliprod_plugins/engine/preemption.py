"""Stop on SIGTERM / SIGUSR1 at an iteration boundary, save that iteration, exit "preempted".

Spot instances, Kubernetes and Slurm (``--signal=USR1@120``, ``scancel``) send a signal some
time before they kill a job; torchrun forwards SIGTERM to every rank. The handlers installed
here only record the signal. After each training iteration all ranks agree (an ``all_reduce``
of the flag, so they stop at the same iteration even when only some were signalled; the flag
rides on ``FiniteOptimWrapper``'s per-step collective and host sync, so it costs none of its
own; a signal that arrives after that collective is acted on one iteration later), rank 0
saves ``iter_{N}.pth`` through ``save_checkpoint_atomic`` (temporary file, fsync,
``os.replace``; ``last_checkpoint`` points at it), the previous handlers are put back, the
runner's ``after_run`` hooks run (loggers and visualizer backends closed) and every process
exits with :data:`PREEMPTED_EXIT_CODE` (75, ``EX_TEMPFAIL``: "try again"). A second signal
during the save is only counted, so it cannot cut the save short. ``--resume`` then continues
at iteration N + 1, in the middle of the epoch (``ResumableEpochBasedTrainLoop``).

Slurm's cancel and preemption, systemd and Kubernetes signal every process of the job, the
DataLoader workers too: the train and val loaders' workers leave these signals to the main
process (:func:`~aliprod_plugins.engine.loader_workers.leave_signals_to_main`), so a signal
to the whole process group preempts exactly as one to the main process does.
"""
import signal
import threading
from typing import Dict, Optional, Sequence

import torch
from mmengine.dist import all_reduce, barrier, get_world_size
from mmengine.hooks import Hook
from mmpretrain.registry import HOOKS

from .atomic_checkpoint import save_checkpoint_atomic
from .finite_optim_wrapper import FiniteStepMixin
from .loader_workers import leave_signals_to_main

#: Exit status of a run stopped by a preemption signal after saving its checkpoint.
PREEMPTED_EXIT_CODE = 75


class Preempted(SystemExit):
    """Raised (on every rank) after the preemption checkpoint is saved; exits with 75."""

    def __init__(self) -> None:
        super().__init__(PREEMPTED_EXIT_CODE)


@HOOKS.register_module()
class PreemptionHook(Hook):
    """Save a checkpoint of the current iteration and exit 75 on a preemption signal.

    Registered by ``ResumableEpochBasedTrainLoop`` when the config does not list it.

    Args:
        signals (Sequence[str]): Signal names to handle. Defaults to
            ``('SIGTERM', 'SIGUSR1')``.
    """

    priority = 'LOWEST'  # after every other hook of the iteration (logging, checkpoints)

    def __init__(self, signals: Sequence[str] = ('SIGTERM', 'SIGUSR1')) -> None:
        if isinstance(signals, str) or not signals:
            raise ValueError(f'signals must be a non-empty sequence of signal names, got '
                             f'{signals!r}')
        known = {s.name for s in signal.Signals}
        for name in signals:
            if name not in known:
                raise ValueError(f'signals expected names such as "SIGTERM" or "SIGUSR1", got '
                                 f'{name!r}')
        self.signals = tuple(signals)
        self.received: Optional[str] = None
        self.count = 0
        self._previous: Dict[int, object] = {}
        self.agreed: Optional[bool] = None  # this iteration's decision, from the optim wrapper

    def before_train(self, runner) -> None:
        """Install the handlers (main thread only; they just record the signal).

        The train and val DataLoaders' workers, not started yet, are set to leave the signals
        to this process.
        """
        if threading.current_thread() is not threading.main_thread():
            runner.logger.warning('PreemptionHook: not in the main thread, so signals cannot '
                                  'be handled; preemption saves are off')
            return
        for name in self.signals:
            signum = getattr(signal, name)
            self._previous[signum] = signal.signal(signum, self._handle)
        val_loop = runner.val_loop
        for loader in (runner.train_dataloader, getattr(val_loop, 'dataloader', None)):
            if loader is not None:
                leave_signals_to_main(loader, self.signals)

    def before_train_iter(self, runner, batch_idx: int, data_batch=None) -> None:
        """Hand the flag to the optimizer wrapper, whose one collective per step carries it."""
        wrapper = runner.optim_wrapper
        if isinstance(wrapper, FiniteStepMixin):
            wrapper.preemption = self

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        """If any rank was signalled: save this iteration (rank 0), then exit on every rank."""
        if not self._any_rank_signalled():
            return
        how = self.received or 'another rank\'s signal'
        iteration = runner.iter + 1
        runner.logger.warning(
            f'Preemption ({how}): stopping after iteration {iteration} (epoch '
            f'{runner.epoch + 1}, batch {batch_idx + 1}/{len(runner.train_dataloader)}); '
            f'saving iter_{iteration}.pth')
        path = save_checkpoint_atomic(runner, f'iter_{iteration}.pth', by_epoch=False)
        barrier()
        extra = f' ({self.count - 1} more signal(s) during the save ignored)' \
            if self.count > 1 else ''
        runner.logger.warning(
            f'Preempted: saved {path}{extra}; exiting with code {PREEMPTED_EXIT_CODE}. '
            f'Continue with `--resume`.')
        self._exit(runner)

    def after_train(self, runner) -> None:
        """Put the previous handlers back."""
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous.clear()

    def _exit(self, runner) -> None:
        """Leave the run as ``Runner.train`` would after training: handlers back, ``after_run``.

        ``after_train`` hooks do not run (training did not finish: no final publishing); a
        failing ``after_run`` hook is logged and does not change the exit status.
        """
        self.after_train(runner)
        try:
            runner.call_hook('after_run')
        except Exception as err:  # the checkpoint is saved: still exit "preempted"
            runner.logger.error(f'Preempted: an after_run hook failed ({type(err).__name__}: '
                                f'{err}); exiting with code {PREEMPTED_EXIT_CODE} anyway')
        raise Preempted()

    def _any_rank_signalled(self) -> bool:
        """All ranks' decision for this iteration, with no host sync of its own when possible.

        One process: the local flag. Several: what the optimizer wrapper's step agreed on
        (``agreed``), else (no step this iteration, e.g. gradient accumulation, or a stock
        wrapper) an all-reduce of the flag.
        """
        agreed, self.agreed = self.agreed, None
        if get_world_size() == 1:
            return self.received is not None
        if agreed is not None:
            return agreed
        flag = torch.tensor([1 if self.received else 0], dtype=torch.int64)
        all_reduce(flag, op='max')
        return bool(flag.item())

    def _handle(self, signum: int, frame) -> None:
        # only record: a signal handler must not log (locks) nor raise into the save
        self.count += 1
        if self.received is None:
            self.received = signal.Signals(signum).name
