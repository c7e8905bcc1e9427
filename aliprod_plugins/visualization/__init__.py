"""Watching a run: TensorBoard events beside MMEngine's ``scalars.json``."""
from .tensorboard import enable_tensorboard

__all__ = ['enable_tensorboard']
