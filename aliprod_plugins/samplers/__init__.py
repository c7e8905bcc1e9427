"""Class-aware samplers, registered in MMPretrain's ``DATA_SAMPLERS``."""
from .progressive_sampler import ProgressivelyBalancedSampler
from .rebalanced_sampler import ClassBalancedSampler, InstanceBalancedSampler, RebalancedSampler

__all__ = [
    'RebalancedSampler', 'InstanceBalancedSampler', 'ClassBalancedSampler',
    'ProgressivelyBalancedSampler'
]
