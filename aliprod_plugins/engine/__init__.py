"""What MMEngine 0.10.7 needs for long runs on today's PyTorch, one module a job.

- ``atomic_io``: write through a temporary file, fsync, ``os.replace`` (``AtomicLocalBackend``)
- ``atomic_checkpoint``: save a running ``Runner``'s checkpoint atomically; ``last_checkpoint``
- ``checkpoint_hook``: ``AtomicCheckpointHook``, MMEngine's hook that saves before it rotates
- ``checkpoint``: ``weights_only`` checkpoint loading through an exact allowlist (``safe_load``)
- ``checkpoint_match``: refuse a checkpoint that does not fit the config, in one line
- ``resume``: choose the checkpoint ``--resume`` continues from (``apply_resume``)
- ``resume_check``: whether one checkpoint can be resumed from, checked cheaply
- ``resumable_loop``: ``ResumableEpochBasedTrainLoop``, mid-epoch bit-exact resume
- ``rng_state``: every rank's Python / numpy / torch random states as checkpoint data
- ``sample_seed``: augment each sample from (seed, epoch, position) (``SampleKey``, ``sample_rng``)
- ``preemption``: act on SIGTERM / SIGUSR1 at an iteration boundary (``PreemptionHook``)
- ``loader_workers``: stop DataLoader workers cleanly and leave signals to the trainer
- ``finite_optim_wrapper``: skip optimizer steps with a NaN / inf loss or gradient norm
- ``dist``: MMEngine's ``pytorch`` launcher on CPU (gloo)
- ``runner_parts``: a runner's unwrapped model and train sampler, reached one way each
"""
from .atomic_checkpoint import read_last_checkpoint, save_checkpoint_atomic, write_last_checkpoint
from .atomic_io import AtomicLocalBackend, atomic_write_bytes, atomic_write_text, fsync_dir
from .checkpoint import UnsafeCheckpointError, checkpoint_safe_globals, safe_load
from .checkpoint_hook import AtomicCheckpointHook
from .dist import setup_cpu_distributed, teardown_distributed
from .finite_optim_wrapper import FiniteAmpOptimWrapper, FiniteOptimWrapper, NonFiniteLossError
from .loader_workers import leave_signals_to_main, shutdown_loader_workers, shutdown_workers
from .preemption import PREEMPTED_EXIT_CODE, Preempted, PreemptionHook
from .resumable_loop import LoopStateHook, ResumableEpochBasedTrainLoop
from .rng_state import get_rng_state, preserved_rng, set_rng_state
from .runner_parts import train_sampler, unwrap_model
from .sample_seed import SampleKey, sample_rng

__all__ = ['AtomicCheckpointHook', 'AtomicLocalBackend', 'atomic_write_bytes',
           'atomic_write_text', 'fsync_dir', 'save_checkpoint_atomic', 'write_last_checkpoint',
           'read_last_checkpoint', 'train_sampler', 'unwrap_model',
           'UnsafeCheckpointError', 'checkpoint_safe_globals', 'safe_load',
           'setup_cpu_distributed', 'teardown_distributed', 'shutdown_loader_workers',
           'shutdown_workers', 'leave_signals_to_main', 'PREEMPTED_EXIT_CODE', 'Preempted',
           'PreemptionHook',
           'LoopStateHook', 'ResumableEpochBasedTrainLoop', 'get_rng_state', 'preserved_rng',
           'set_rng_state', 'SampleKey', 'sample_rng', 'FiniteOptimWrapper',
           'FiniteAmpOptimWrapper', 'NonFiniteLossError']
