"""Class-aware samplers, registered in MMPretrain's ``DATA_SAMPLERS``.

- :mod:`.rebalanced_sampler`: ``RebalancedSampler`` (class probability proportional to
  ``n_c ** q``), ``InstanceBalancedSampler``, ``ClassBalancedSampler``;
- :mod:`.progressive_sampler`: ``ProgressivelyBalancedSampler``;
- :mod:`.class_index`: the vectorised per-class index they draw from.

All are deterministic in (seed, epoch, rank) and resume mid-epoch.
"""
from .progressive_sampler import ProgressivelyBalancedSampler
from .rebalanced_sampler import ClassBalancedSampler, InstanceBalancedSampler, RebalancedSampler

__all__ = [
    'RebalancedSampler', 'InstanceBalancedSampler', 'ClassBalancedSampler',
    'ProgressivelyBalancedSampler'
]
