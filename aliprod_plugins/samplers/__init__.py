"""Class-aware samplers, registered in MMPretrain's ``DATA_SAMPLERS``.

- ``rebalanced_sampler``: ``RebalancedSampler`` (``n_c ** power``), ``InstanceBalancedSampler``,
  ``ClassBalancedSampler``
- ``progressive_sampler``: ``ProgressivelyBalancedSampler``, instance- to class-balanced
- ``class_index``: the compact per-class index they draw from
"""
from .progressive_sampler import ProgressivelyBalancedSampler
from .rebalanced_sampler import ClassBalancedSampler, InstanceBalancedSampler, RebalancedSampler

__all__ = [
    'RebalancedSampler', 'InstanceBalancedSampler', 'ClassBalancedSampler',
    'ProgressivelyBalancedSampler'
]
