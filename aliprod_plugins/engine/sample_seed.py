"""Randomness that shapes a sample is a function of (seed, epoch, position), never of history.

MMPretrain's random transforms (``RandomResizedCrop``, ``RandomFlip``, ...) draw from numpy's and
Python's global generators, torchvision's from torch's. In DataLoader workers those generators
start from a per-worker seed and then depend on which samples that worker happened to load
before, so an epoch resumed in the middle (or with other workers, or after persistent workers
restarted) augments differently. Here each sample is augmented under generators seeded from
the run seed, the epoch and the sample's position in that epoch's draw::

    with sample_rng(key):            # key: a SampleKey yielded by our samplers
        data = pipeline(info)

The position (not the dataset index) keys the seed, so a sample drawn twice in one epoch (class
-balanced sampling) is augmented twice differently, and the result does not depend on the
number of ranks or workers. In the training process (``num_workers=0``) the global generators
are restored afterwards, so its own random stream does not move; a worker's streams serve
nothing else and are left seeded (about 10 us per sample: a SplitMix64 hash, three seeds).
"""
import random
from contextlib import contextmanager
from typing import Iterator, Tuple

import numpy as np
import torch
from torch.utils.data import get_worker_info

_SALT = 0x5A3D1E  # keeps these seeds apart from other generators seeded by small integers


class SampleKey(int):
    """A dataset index (it *is* that int) that also carries where it was drawn.

    Our samplers yield these while ``sample_keys`` is on (``ResumableEpochBasedTrainLoop``
    switches it on); they cross to DataLoader workers with the index, persistent workers
    included, and reach ``prepare_data`` of the dataset.

    Args:
        index (int): Dataset index.
        seed (int): Sampler (run) seed.
        epoch (int): Epoch of the draw.
        position (int): Position in the epoch's global draw (over all ranks).
    """

    def __new__(cls, index: int, seed: int, epoch: int, position: int) -> 'SampleKey':
        obj = int.__new__(cls, index)
        obj.seed, obj.epoch, obj.position = seed, epoch, position
        return obj

    def __reduce__(self):
        return (SampleKey, (int(self), self.seed, self.epoch, self.position))


_MASK = (1 << 64) - 1


def _splitmix64(x: int) -> int:
    """SplitMix64's finaliser (Steele et al., 2014): a 64-bit bijection that mixes every bit."""
    x = (x + 0x9E3779B97F4A7C15) & _MASK
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK
    return x ^ (x >> 31)


def sample_seeds(seed: int, epoch: int, position: int, attempt: int = 0) -> Tuple[int, int, int]:
    """Seeds for ``random``, numpy and torch derived from (seed, epoch, position, attempt).

    A chain of SplitMix64 steps: a few integer operations (``np.random.SeedSequence`` costs
    ~40x more, per sample).

    Args:
        seed (int): Run seed.
        epoch (int): Epoch.
        position (int): Position in the epoch's draw.
        attempt (int): Load attempt (``on_error='resample'`` replacements). Defaults to 0.

    Returns:
        tuple: 64-bit seed for ``random``, 32-bit for numpy, 64-bit for torch.
    """
    h = _splitmix64(_SALT)
    for value in (seed, epoch, position, attempt):
        h = _splitmix64(h ^ (value & _MASK))
    return _splitmix64(h ^ 1), _splitmix64(h ^ 2) >> 32, _splitmix64(h ^ 3)


@contextmanager
def sample_rng(key: int, attempt: int = 0) -> Iterator[None]:
    """Seed ``random``, numpy and torch (CPU) for one sample; restore them afterwards.

    A plain ``int`` (not a :class:`SampleKey`, e.g. validation or ``dataset[i]``) leaves the
    generators alone.

    Args:
        key (int): The index the sampler gave.
        attempt (int): Load attempt, so that a replacement draw is seeded afresh whatever the
            failed attempt consumed. Defaults to 0.
    """
    if not isinstance(key, SampleKey):
        yield
        return
    # a DataLoader worker's own stream is never used otherwise: restoring it is for num_workers=0
    restore = get_worker_info() is None
    if restore:
        saved = (random.getstate(), np.random.get_state(), torch.get_rng_state())
    py_seed, np_seed, torch_seed = sample_seeds(key.seed, key.epoch, key.position, attempt)
    random.seed(py_seed)
    np.random.seed(np_seed)
    # the CPU generator only: torch.manual_seed would also touch CUDA (not allowed in a fork)
    torch.default_generator.manual_seed(torch_seed)
    try:
        yield
    finally:
        if restore:
            random.setstate(saved[0])
            np.random.set_state(saved[1])
            torch.set_rng_state(saved[2])
