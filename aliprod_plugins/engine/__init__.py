"""Engine-level fixes: safe checkpoint loading, atomic checkpoints, CPU distributed launch."""
from .atomic_checkpoint import save_checkpoint_atomic, write_last_checkpoint
from .atomic_io import AtomicLocalBackend, atomic_write_bytes, atomic_write_text, fsync_dir
from .checkpoint import UnsafeCheckpointError, checkpoint_safe_globals, safe_load
from .checkpoint_hook import AtomicCheckpointHook
from .dist import setup_cpu_distributed, teardown_distributed
from .finite_optim_wrapper import FiniteAmpOptimWrapper, FiniteOptimWrapper, NonFiniteLossError
from .loader_workers import leave_signals_to_main, shutdown_loader_workers, shutdown_workers
from .preemption import PREEMPTED_EXIT_CODE, Preempted, PreemptionHook
from .resumable_loop import LoopStateHook, ResumableEpochBasedTrainLoop
from .rng_state import get_rng_state, preserved_rng, set_rng_state
from .sample_seed import SampleKey, sample_rng

__all__ = ['AtomicCheckpointHook', 'AtomicLocalBackend', 'atomic_write_bytes',
           'atomic_write_text', 'fsync_dir', 'save_checkpoint_atomic', 'write_last_checkpoint',
           'UnsafeCheckpointError', 'checkpoint_safe_globals', 'safe_load',
           'setup_cpu_distributed', 'teardown_distributed', 'shutdown_loader_workers',
           'shutdown_workers', 'leave_signals_to_main', 'PREEMPTED_EXIT_CODE', 'Preempted',
           'PreemptionHook',
           'LoopStateHook', 'ResumableEpochBasedTrainLoop', 'get_rng_state', 'preserved_rng',
           'set_rng_state', 'SampleKey', 'sample_rng', 'FiniteOptimWrapper',
           'FiniteAmpOptimWrapper', 'NonFiniteLossError']
