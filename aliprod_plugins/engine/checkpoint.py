"""Load MMEngine checkpoints with ``weights_only=True`` on torch >= 2.6.

torch >= 2.6 unpickles checkpoints with a restricted unpickler. MMEngine 0.10.7 checkpoints hold
a few non-tensor objects (the message hub's ``HistoryBuffer`` with numpy arrays inside), so
``--resume``, ``load_from`` and ``tools/test.py`` fail out of the box. Instead of switching the
restriction off, the local-file loader of MMEngine's ``CheckpointLoader`` is replaced by one that
allows exactly the globals such checkpoints contain, for the duration of the load only. A
checkpoint that references anything else (for example a crafted ``__reduce__`` payload) is
refused before any of its code runs, with an error naming the global.
"""
import os.path as osp
import pickle
from typing import Any, Callable, List, Optional

import numpy as np
import torch
from mmengine.logging.history_buffer import HistoryBuffer
from mmengine.runner.checkpoint import CheckpointLoader


class UnsafeCheckpointError(pickle.UnpicklingError):
    """A checkpoint references a global outside the allowlist."""


def _numpy_reconstruct() -> Callable:
    # numpy 2 pickles arrays as ``numpy._core.multiarray``; numpy 1 as ``numpy.core.multiarray``.
    core = getattr(np, '_core', None) or np.core
    return core.multiarray._reconstruct


def _numpy_scalar() -> Callable:
    core = getattr(np, '_core', None) or np.core
    return core.multiarray.scalar


_NUMPY_DTYPES = (np.bool_, np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16,
                 np.uint32, np.uint64, np.float16, np.float32, np.float64)


def _history_buffer_method(owner: Any, name: str) -> Callable:
    """Stand-in for ``getattr`` that resolves only ``HistoryBuffer``'s statistics methods.

    ``HistoryBuffer.__getstate__`` pickles its registered statistics (``min``, ``max``,
    ``current``, ``mean``, ...) as ``getattr(HistoryBuffer, name)``. Allowing the real ``getattr``
    would let a checkpoint reach any attribute of any allowed object, so this accepts exactly
    that pattern and refuses everything else.
    """
    if owner is HistoryBuffer and isinstance(name, str) and not name.startswith('_') \
            and callable(getattr(HistoryBuffer, name, None)):
        return getattr(HistoryBuffer, name)
    raise UnsafeCheckpointError(
        f'refusing getattr({owner!r}, {name!r}) in a checkpoint: only public '
        'HistoryBuffer methods may be referenced that way')


def checkpoint_safe_globals() -> List[Any]:
    """Return the globals that MMEngine / MMPretrain checkpoints contain beyond torch's defaults.

    ``HistoryBuffer`` (message hub logs) stores numpy arrays, which pickle as
    ``_reconstruct(ndarray, shape, dtype)`` plus numpy scalars for a few runtime values, and its
    statistics methods as ``getattr(HistoryBuffer, 'mean')``; ``getattr`` is mapped to a
    restricted stand-in that resolves nothing else.

    Returns:
        list: Objects (or ``(object, 'module.name')`` pairs) for
        :func:`torch.serialization.safe_globals`.
    """
    return [
        HistoryBuffer,
        (_history_buffer_method, '__builtin__.getattr'),  # pickle protocol 2 spelling
        (_history_buffer_method, 'builtins.getattr'),
        _numpy_reconstruct(),
        _numpy_scalar(),
        np.ndarray,
        np.dtype,
        *[type(np.dtype(t)) for t in _NUMPY_DTYPES],
    ]


def _global_name(obj: Any) -> str:
    if isinstance(obj, tuple):
        return obj[1]
    return f'{obj.__module__}.{obj.__qualname__}'


def safe_load(filename: str, map_location: Optional[Any] = None) -> Any:
    """``torch.load`` with ``weights_only=True`` and the MMEngine allowlist.

    Args:
        filename (str): Local checkpoint path.
        map_location (optional): Same as :func:`torch.load`. Defaults to None.

    Returns:
        The loaded checkpoint.

    Raises:
        FileNotFoundError: The file does not exist.
        UnsafeCheckpointError: The file references a global outside the allowlist; nothing
            it references is executed.
    """
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'checkpoint {filename!r} can not be found')
    allowed = checkpoint_safe_globals()
    with torch.serialization.safe_globals(allowed):
        try:
            return torch.load(filename, map_location=map_location, weights_only=True)
        except pickle.UnpicklingError as err:
            unsafe = _unsafe_globals(filename, allowed)
            raise UnsafeCheckpointError(
                f'refusing to load checkpoint {filename!r}: it references '
                f'{", ".join(unsafe) or "a global"} which is not among the globals that '
                'MMEngine/MMPretrain checkpoints contain (see '
                'aliprod_plugins.engine.checkpoint.checkpoint_safe_globals). If you trust the '
                f'file, inspect it first; it was not executed. ({err})') from None


def _unsafe_globals(filename: str, allowed: List[Any]) -> List[str]:
    allowed_names = {_global_name(obj) for obj in allowed}
    try:
        found = torch.serialization.get_unsafe_globals_in_checkpoint(filename)
    except Exception:  # not a zip checkpoint: fall back to torch's own message
        return []
    return [name for name in found if name not in allowed_names]


@CheckpointLoader.register_scheme(prefixes='', force=True)
def load_from_local(filename: str, map_location: Optional[Any] = None) -> Any:
    """MMEngine's scheme for local files (no prefix), loading through :func:`safe_load`."""
    return safe_load(filename, map_location)
