"""The training process's random state (Python, numpy, torch CPU and CUDA), as checkpoint data.

``get_rng_state()`` returns only types that ``torch.load(weights_only=True)`` reads without any
allowlist (tensors, ints, floats, tuples, dicts, strings), so a checkpoint that carries it loads
under the same exact allowlist as any other (``aliprod_plugins/engine/checkpoint.py``).
"""
import random
from contextlib import contextmanager
from typing import Iterator

import numpy as np
import torch


def get_rng_state() -> dict:
    """Capture the global generators of this process.

    Returns:
        dict: ``python``, ``numpy``, ``torch`` and, once CUDA is initialised, ``cuda``.
    """
    name, keys, pos, has_gauss, gauss = np.random.get_state()
    state = dict(
        python=random.getstate(),
        numpy=dict(name=name, keys=torch.from_numpy(keys.astype(np.int64)), pos=int(pos),
                   has_gauss=int(has_gauss), gauss=float(gauss)),
        torch=torch.get_rng_state())
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state['cuda'] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    """Restore what :func:`get_rng_state` captured.

    Args:
        state (dict): A captured state; ``cuda`` is restored when present and CUDA is usable
            with the same number of devices.
    """
    if not isinstance(state, dict) or not {'python', 'numpy', 'torch'} <= set(state):
        got = sorted(state) if isinstance(state, dict) else type(state).__name__
        raise ValueError(f'expected a dict with python, numpy and torch RNG states, got {got}')
    version, internal, gauss_next = state['python']
    random.setstate((version, tuple(internal), gauss_next))
    np_state = state['numpy']
    np.random.set_state((np_state['name'], np_state['keys'].numpy().astype(np.uint32),
                         np_state['pos'], np_state['has_gauss'], np_state['gauss']))
    torch.set_rng_state(state['torch'].cpu())
    cuda = state.get('cuda')
    if cuda is not None and torch.cuda.is_available() and len(cuda) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all([s.cpu() for s in cuda])


@contextmanager
def preserved_rng() -> Iterator[None]:
    """Run a block (validation, creating a DataLoader iterator) without moving the generators."""
    state = get_rng_state()
    try:
        yield
    finally:
        set_rng_state(state)
