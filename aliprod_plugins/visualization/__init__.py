"""Watching a run: TensorBoard events beside MMEngine's ``scalars.json``.

- :mod:`.tensorboard`: ``enable_tensorboard`` (``tools/train.py --tensorboard``).
"""
from .tensorboard import enable_tensorboard

__all__ = ['enable_tensorboard']
