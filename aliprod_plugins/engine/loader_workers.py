"""DataLoader workers: stopped while the interpreter is still whole; signals left to the trainer.

With ``persistent_workers=True`` and ``pin_memory=True`` (our configs, on a GPU machine)
PyTorch leaves the workers to the iterator's finaliser at interpreter exit, where each
worker's join waits out a 5 s timeout (pytorch/pytorch#81794). Measured on an H200
machine: ``tools/train.py`` and ``tools/dist_train.sh`` sat 30-70 s between their last log
line and their exit (4 train + 8 val workers). Shutting the workers down explicitly, as the
tools do after training or testing, ends them at once. On CPU (no pinning thread) it makes
no difference to the time but costs nothing.

Slurm (``scancel``, preemption), systemd and Kubernetes signal every process of a job. PyTorch's
workers die of a SIGTERM that does not come from their parent, and the trainer then stops with
``RuntimeError: DataLoader worker (pid ...) is killed by signal: Terminated.`` before it can
save. :func:`leave_signals_to_main` makes a loader's workers block SIGTERM / SIGUSR1 and wait
for them in a thread: a SIGTERM from the trainer still ends the worker at once (PyTorch's
``terminate()`` of a stuck worker), any other is dropped, the trainer handles its own copy
(``PreemptionHook``). Workers forked after the wrap (persistent ones at the first epoch, the
others every epoch) are covered; a signal in the instant between a worker's fork and its
``worker_init_fn`` still reaches PyTorch's handler.
"""
import os
import signal
import threading
from typing import Any, Callable, Optional, Sequence

from torch.utils.data import DataLoader

from ..upstream import private_attr

LOOPS = ('_train_loop', '_val_loop', '_test_loop')


def shutdown_loader_workers(runner: Any) -> int:
    """Shut down the worker processes of the runner's built train / val / test loaders.

    Loops that were never built (still a config dict) are left alone; a loader without
    live persistent workers is skipped.

    Args:
        runner: An MMEngine ``Runner`` (anything with ``_train_loop`` / ``_val_loop`` /
            ``_test_loop`` attributes whose loops have a ``dataloader``).

    Returns:
        int: How many loaders had their workers shut down.
    """
    loaders = [getattr(private_attr(runner, name), 'dataloader', None) for name in LOOPS]
    return sum(shutdown_workers(loader) for loader in loaders if loader is not None)


def shutdown_workers(dataloader: Any) -> bool:
    """Stop the persistent workers of a DataLoader that will not be iterated again.

    Args:
        dataloader: A ``torch.utils.data.DataLoader`` (or anything else: then nothing happens).

    Returns:
        bool: True if it had an iterator whose workers were shut down.
    """
    if not isinstance(dataloader, DataLoader):
        return False
    iterator = private_attr(dataloader, '_iterator')
    if iterator is None:
        return False
    dataloader._iterator = None
    if not hasattr(iterator, '_shutdown_workers'):  # a single-process iterator
        return False
    iterator._shutdown_workers()
    return True


class LeaveSignalsToMain:
    """A ``worker_init_fn`` that leaves ``signals`` to the main process, then calls ``fn``.

    Picklable (for ``spawn`` / ``forkserver`` workers) when ``fn`` is.

    Args:
        fn (callable, optional): The loader's own ``worker_init_fn``.
        signals (Sequence[str]): Signal names, e.g. ``('SIGTERM', 'SIGUSR1')``.
        main_pid (int): The training process, whose SIGTERM still ends the worker.
    """

    def __init__(self, fn: Optional[Callable], signals: Sequence[str], main_pid: int) -> None:
        self.fn = fn
        self.signals = tuple(signals)
        self.main_pid = main_pid

    def __call__(self, worker_id: int) -> None:
        """In the worker: block the signals, wait for them in a thread, run ``fn``."""
        nums = {getattr(signal, name) for name in self.signals}
        # blocked in the worker's only thread (and inherited by any it starts), so PyTorch's
        # worker handler never runs for them; the waiting thread takes them instead
        signal.pthread_sigmask(signal.SIG_BLOCK, nums)
        threading.Thread(target=self._wait, args=(nums, ), daemon=True,
                         name='leave_signals_to_main').start()
        if self.fn is not None:
            self.fn(worker_id)

    def _wait(self, nums: set) -> None:
        while True:
            info = signal.sigwaitinfo(nums)
            if info.si_signo == signal.SIGTERM and info.si_pid == self.main_pid:
                os._exit(0)  # the trainer ends its worker, as PyTorch's own handler does


def leave_signals_to_main(dataloader: Any, signals: Sequence[str]) -> bool:
    """Make the workers a DataLoader starts from now on leave ``signals`` to this process.

    Args:
        dataloader: A ``torch.utils.data.DataLoader`` (anything else is left alone).
        signals (Sequence[str]): Signal names handled by the main process.

    Returns:
        bool: True if its ``worker_init_fn`` was wrapped (False: no workers, or already).
    """
    if getattr(dataloader, 'num_workers', 0) == 0 or not hasattr(dataloader, 'worker_init_fn'):
        return False
    fn = dataloader.worker_init_fn
    if isinstance(fn, LeaveSignalsToMain):
        return False
    dataloader.worker_init_fn = LeaveSignalsToMain(fn, signals, os.getpid())
    return True
