"""Class-rebalanced samplers: class probability proportional to ``n_c ** power``.

``power=1`` is instance-balanced (every sample equally likely), ``power=0`` class-balanced (a
class uniformly, then a sample uniformly inside it), ``power=0.5`` square-root sampling (Kang et
al., "Decoupling representation and classifier for long-tailed recognition", ICLR 2020)::

    train_dataloader = dict(sampler=dict(type='RebalancedSampler', power=0.5), ...)

Every sampler here draws one global sequence per epoch from ``np.random.default_rng([seed,
epoch])``, pads it by wrapping to ``ceil(num_samples / W) * W`` and gives rank ``r`` the strided
share ``r::W``, so ranks are disjoint up to the padding and the run is reproducible in (seed,
epoch, rank). ``set_epoch()`` is called by MMEngine's ``DistSamplerSeedHook``.

Resuming in the middle of an epoch: ``set_start(n)`` makes the epoch begin at position ``n`` of
this rank's share (the same draw, without loading what is skipped) until the next
``set_epoch()``. With ``sample_keys`` on, the indices are :class:`SampleKey` ints that carry
(seed, epoch, position) to the dataset, which seeds each sample's augmentation from them
(``aliprod_plugins/engine/sample_seed.py``); ``ResumableEpochBasedTrainLoop`` switches both on.
"""
import math
from typing import Iterator, Optional, Sized

import numpy as np
from mmengine.dist import get_dist_info, sync_random_seed
from mmpretrain.registry import DATA_SAMPLERS
from torch.utils.data import Sampler

from aliprod_plugins.checks import check_bool, check_int, check_number
from aliprod_plugins.engine.sample_seed import SampleKey
from .class_index import ClassIndex, dataset_classes, draw_classes, read_labels


@DATA_SAMPLERS.register_module()
class RebalancedSampler(Sampler):
    """Sample classes with probability proportional to ``n_c ** power``.

    A class is drawn first, then a sample uniformly (with replacement) inside it. When the class
    probabilities are exactly instance-balanced the epoch is a shuffled pass over the dataset
    instead (the same marginal distribution, without repeats).

    Args:
        dataset (Sized): Dataset with ``get_gt_labels()``; read once, here.
        power (float): Exponent ``q`` of the class sizes. Defaults to 0.5.
        seed (int, optional): Seed shared by all ranks. Defaults to None (a seed synchronised
            across ranks, as MMEngine's ``DefaultSampler`` does).
        num_samples (int, optional): Samples per epoch over all ranks. Defaults to None
            (``len(dataset)``, so iteration counts and schedules match instance-balanced runs).
        skip_empty_classes (bool): Give classes without samples probability 0 even where
            ``power`` would not (``power <= 0``). Defaults to False (raise instead).
        rank (int, optional): Override of this process's rank. Defaults to None (the
            distributed rank).
        world_size (int, optional): Override of the number of ranks. Defaults to None.
    """

    def __init__(self,
                 dataset: Sized,
                 power: float = 0.5,
                 seed: Optional[int] = None,
                 num_samples: Optional[int] = None,
                 skip_empty_classes: bool = False,
                 rank: Optional[int] = None,
                 world_size: Optional[int] = None) -> None:
        owner = type(self).__name__
        power = check_number('power', power, owner=owner)
        check_int('num_samples', num_samples, low=1, allow_none=True, owner=owner)
        check_bool('skip_empty_classes', skip_empty_classes, owner=owner)
        dist_rank, dist_world = get_dist_info()
        self.world_size = check_int('world_size', dist_world if world_size is None else world_size,
                                    low=1, owner=owner)
        self.rank = check_int('rank', dist_rank if rank is None else rank, low=0,
                              high=self.world_size - 1, owner=owner)
        seed = check_int('seed', sync_random_seed() if seed is None else seed, low=0,
                         owner=owner)

        self.dataset = dataset
        self.power = power
        self.seed = seed
        self.epoch = 0
        self.start = 0
        self.sample_keys = False
        self.skip_empty_classes = skip_empty_classes
        classes = dataset_classes(dataset)
        self.index = ClassIndex(
            read_labels(dataset), num_classes=None if classes is None else len(classes))
        self._class_names = classes
        self.total_samples = int(num_samples) if num_samples is not None else len(dataset)
        self.num_samples = math.ceil(self.total_samples / self.world_size)
        self.total_size = self.num_samples * self.world_size
        self._validate_probs()

    def class_probs(self, epoch: int) -> np.ndarray:
        """Probability of each class in the given epoch (float64, sums to 1)."""
        return self._power_probs(self.power)

    def set_epoch(self, epoch: int) -> None:
        """Set the epoch (and start it from the beginning); the draw depends on (seed, epoch)."""
        self.epoch = epoch
        self.start = 0

    def set_start(self, start: int) -> None:
        """Begin this epoch at position ``start`` of this rank's share (mid-epoch resume).

        Args:
            start (int): Indices of this rank's share already consumed, in ``[0, len(self)]``.
                Reset to 0 by :meth:`set_epoch`.
        """
        self.start = check_int('start', start, low=0, high=self.num_samples,
                               owner=f'{type(self).__name__} (indices per rank and epoch)')

    def __iter__(self) -> Iterator[int]:
        """Yield this rank's share of the epoch's global draw, from position ``start`` on."""
        indices = self.global_indices(self.epoch)
        if indices.size != self.total_size:  # pad by wrapping around
            indices = np.resize(indices, self.total_size)
        first = self.rank + self.start * self.world_size
        share = indices[first::self.world_size].tolist()
        if not self.sample_keys:
            return iter(share)
        seed, epoch = self.seed, self.epoch
        positions = range(first, self.total_size, self.world_size)
        return (SampleKey(i, seed, epoch, p) for i, p in zip(share, positions))

    def __len__(self) -> int:
        """Number of indices yielded by this rank per epoch: ``ceil(num_samples / W)``."""
        return self.num_samples

    def global_indices(self, epoch: int) -> np.ndarray:
        """The epoch's draw over all ranks, before padding (``num_samples`` indices)."""
        rng = np.random.default_rng([self.seed, epoch])
        n = self.total_samples
        if self._is_instance_balanced(epoch):
            size = self.index.num_samples
            perms = [rng.permutation(size) for _ in range(-(-n // size))]
            return np.concatenate(perms)[:n]
        probs = self.class_probs(epoch)
        self._check_probs(probs, f'epoch {epoch}')
        return self.index.sample_within(rng, draw_classes(rng, probs, n))

    def __repr__(self) -> str:
        return (f'{type(self).__name__}({self._describe()}, classes='
                f'{self.index.num_classes}, samples/epoch={self.total_samples}, '
                f'per rank={self.num_samples}, world_size={self.world_size})')

    def _describe(self) -> str:
        return f'power={self.power:g}'

    def _validate_probs(self) -> None:
        """Reject, at construction, class probabilities that need an empty class."""
        self._check_probs(self.class_probs(0), 'epoch 0')

    def _is_instance_balanced(self, epoch: int) -> bool:
        return self.power == 1.0

    def _power_probs(self, power: float) -> np.ndarray:
        """``n_c ** power`` normalised; empty classes get 0 if power > 0 or skipping."""
        counts = self.index.counts
        weights = np.zeros(counts.size, dtype=np.float64)
        nonempty = counts > 0
        weights[nonempty] = counts[nonempty].astype(np.float64)**power
        if power <= 0 and not self.skip_empty_classes:
            weights[~nonempty] = 1.0  # rejected by _check_probs with a clear message
        return weights / weights.sum()

    def _check_probs(self, probs: np.ndarray, when: str) -> None:
        bad = np.flatnonzero((probs > 0) & (self.index.counts == 0))
        if bad.size:
            names = [self._class_names[c] if self._class_names else str(c) for c in bad[:5]]
            raise ValueError(
                f'{type(self).__name__}({self._describe()}) gives nonzero probability in '
                f'{when} to {bad.size} class(es) without samples in '
                f'{type(self.dataset).__name__}, e.g. {", ".join(names)}; expected every '
                f'class with probability > 0 to have samples (pass skip_empty_classes=True to '
                f'draw only among the non-empty classes)')


class FixedPowerSampler(RebalancedSampler):
    """A :class:`RebalancedSampler` whose ``power`` is fixed by the subclass (``POWER``).

    Args:
        dataset (Sized): Dataset with ``get_gt_labels()``.
        seed (int, optional): Seed shared by all ranks. Defaults to None.
        num_samples (int, optional): Samples per epoch over all ranks. Defaults to None
            (``len(dataset)``).
        skip_empty_classes (bool): Draw only among classes with samples. Defaults to False
            (raise if the dataset's class set has an empty class where ``POWER <= 0``).
        rank (int, optional): Rank override. Defaults to None.
        world_size (int, optional): World size override. Defaults to None.
    """

    POWER: float = 0.5
    DESCRIPTION: str = ''

    def __init__(self,
                 dataset: Sized,
                 seed: Optional[int] = None,
                 num_samples: Optional[int] = None,
                 skip_empty_classes: bool = False,
                 rank: Optional[int] = None,
                 world_size: Optional[int] = None) -> None:
        super().__init__(dataset, power=self.POWER, seed=seed, num_samples=num_samples,
                         skip_empty_classes=skip_empty_classes, rank=rank,
                         world_size=world_size)

    def _describe(self) -> str:
        return self.DESCRIPTION


@DATA_SAMPLERS.register_module()
class InstanceBalancedSampler(FixedPowerSampler):
    """Every sample equally likely: a shuffled pass over the dataset (``power=1``).

    Takes :class:`FixedPowerSampler`'s arguments (``skip_empty_classes`` changes nothing here:
    an empty class has probability 0 at ``power=1``).
    """

    POWER = 1.0
    DESCRIPTION = 'instance-balanced'


@DATA_SAMPLERS.register_module()
class ClassBalancedSampler(FixedPowerSampler):
    """A class drawn uniformly, then a sample uniformly inside it (``power=0``).

    Takes :class:`FixedPowerSampler`'s arguments.
    """

    POWER = 0.0
    DESCRIPTION = 'class-balanced'
