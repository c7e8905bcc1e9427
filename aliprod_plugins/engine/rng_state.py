"""The training processes' random states (Python, numpy, torch CPU and CUDA), as checkpoint data.

Every rank has its own generators (its CUDA device's above all, and numpy's / Python's with
``randomness.diff_rank_seed``). A checkpoint stores all of them: the ranks' states are
gathered at the save (:func:`gather_rng_states`, a collective) and written by rank 0 as
``{'world_size': W, 'ranks': [...]}`` (:func:`pack_rank_states`); on resume each rank takes
its own (:func:`rank_rng_state`). A checkpoint from another number of ranks resumes with fresh
states (the run's seed) and a warning, never with another rank's stream.

``get_rng_state()`` returns only types that ``torch.load(weights_only=True)`` reads without any
allowlist (tensors, ints, floats, tuples, dicts, strings), so a checkpoint that carries it loads
under the same exact allowlist as any other (``aliprod_plugins/engine/checkpoint.py``).
"""
import random
from contextlib import contextmanager
from typing import Iterator, List, Optional, Tuple

import numpy as np
import torch
from mmengine.dist import all_gather_object, get_world_size


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


def gather_rng_states(state: dict) -> List[Optional[dict]]:
    """Collect every rank's ``state`` (a collective: call it on all ranks at once).

    Args:
        state (dict): This rank's state, from :func:`get_rng_state`.

    Returns:
        list: One state per rank, indexed by rank (``[state]`` in a single process).
    """
    if get_world_size() == 1:
        return [state]
    # in-memory objects between the ranks of this run, never read from disk
    return all_gather_object(state)


def pack_rank_states(states: List[Optional[dict]]) -> dict:
    """What a checkpoint stores: ``{'world_size': W, 'ranks': [state of rank 0, ...]}``.

    A rank whose state was not collected is None in ``ranks``.
    """
    return dict(world_size=len(states), ranks=list(states))


def rank_rng_state(saved: Optional[dict], rank: int,
                   world_size: int) -> Tuple[Optional[dict], Optional[str]]:
    """Pick ``rank``'s own state out of a checkpoint's ``rng_state``.

    Args:
        saved (dict, optional): The checkpoint's ``rng_state``: :func:`pack_rank_states`'s
            dict, or (checkpoints written before per-rank states) one :func:`get_rng_state`
            dict, which is taken as a single-process run's.
        rank (int): This process's rank.
        world_size (int): Ranks of the resumed run.

    Returns:
        tuple: ``(state, None)`` to restore, or ``(None, why)`` when this rank must keep the
        fresh state the run's seed gave it.
    """
    if saved is None:
        return None, 'the checkpoint has no RNG state (saved without ResumableEpochBasedTrainLoop)'
    if isinstance(saved, dict) and 'python' in saved:  # one process's state, an older format
        saved = pack_rank_states([saved])
    if not (isinstance(saved, dict) and isinstance(saved.get('ranks'), (list, tuple))
            and saved.get('world_size') == len(saved['ranks'])):
        raise ValueError(f'checkpoint["rng_state"] expected a dict with world_size and one '
                         f'state per rank in ranks, got {_describe(saved)}')
    if saved['world_size'] != world_size:
        return None, (f'the checkpoint holds the RNG states of {saved["world_size"]} rank(s), '
                      f'this run has {world_size}: every rank starts from the fresh state of '
                      'the run\'s seed instead')
    state = saved['ranks'][rank]
    if state is None:
        return None, (f'the checkpoint holds no RNG state for rank {rank} (it was saved without '
                      'gathering the ranks\' states, e.g. by a plain CheckpointHook): this '
                      'rank starts from the fresh state of the run\'s seed')
    return state, None


def _describe(value) -> str:
    if isinstance(value, dict):
        return f'a dict with keys {sorted(map(str, value))}'
    return type(value).__name__


@contextmanager
def preserved_rng() -> Iterator[None]:
    """Run a block (validation, creating a DataLoader iterator) without moving the generators."""
    state = get_rng_state()
    try:
        yield
    finally:
        set_rng_state(state)
