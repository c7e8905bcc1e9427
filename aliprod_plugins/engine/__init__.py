"""Engine-level fixes: safe checkpoint loading and CPU distributed launch."""
from .checkpoint import UnsafeCheckpointError, checkpoint_safe_globals, safe_load
from .dist import setup_cpu_distributed

__all__ = ['UnsafeCheckpointError', 'checkpoint_safe_globals', 'safe_load',
           'setup_cpu_distributed']
