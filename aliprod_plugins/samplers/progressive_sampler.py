"""Progressively-balanced sampling (Kang et al., ICLR 2020).

The class probabilities move linearly from instance-balanced to class-balanced::

    p_c(t) = (1 - t / T) * n_c / N + (t / T) * 1 / C,   t = clip(epoch - begin_epoch, 0, T)

so epoch ``begin_epoch`` is a shuffled pass over the dataset and every epoch from
``begin_epoch + num_epochs`` on is class-balanced::

    train_dataloader = dict(sampler=dict(type='ProgressivelyBalancedSampler', num_epochs=40))
"""
from typing import Sized

import numpy as np
from mmpretrain.registry import DATA_SAMPLERS

from aliprod_plugins.checks import check_int
from .rebalanced_sampler import RebalancedSampler


@DATA_SAMPLERS.register_module()
class ProgressivelyBalancedSampler(RebalancedSampler):
    """Interpolate from instance-balanced to class-balanced over ``num_epochs`` epochs.

    Args:
        dataset (Sized): Dataset with ``get_gt_labels()``.
        num_epochs (int): Epochs ``T`` of the interpolation (usually the run's max_epochs).
        begin_epoch (int): Epoch at which the interpolation starts (instance-balanced until
            then). Defaults to 0.
        **kwargs: :class:`RebalancedSampler`'s ``seed``, ``num_samples``,
            ``skip_empty_classes`` (keep classes without samples at probability 0; default:
            raise if the dataset's class set has an empty class), ``rank``, ``world_size``.
    """

    def __init__(self, dataset: Sized, num_epochs: int, begin_epoch: int = 0,
                 **kwargs) -> None:
        self.num_epochs = check_int('num_epochs', num_epochs, low=1, owner=type(self).__name__)
        self.begin_epoch = check_int('begin_epoch', begin_epoch, low=0,
                                     owner=type(self).__name__)
        super().__init__(dataset, power=1.0, **kwargs)

    def balance(self, epoch: int) -> float:
        """Weight ``t / T`` of the class-balanced distribution in the given epoch."""
        return min(max(epoch - self.begin_epoch, 0), self.num_epochs) / self.num_epochs

    def class_probs(self, epoch: int) -> np.ndarray:
        """Probability of each class in the given epoch (float64, sums to 1)."""
        alpha = self.balance(epoch)
        return (1 - alpha) * self._power_probs(1.0) + alpha * self._power_probs(0.0)

    def _validate_probs(self) -> None:
        # the class-balanced end point has the largest support of the whole schedule
        self._check_probs(self._power_probs(0.0), f'epoch {self.begin_epoch + self.num_epochs}')

    def _describe(self) -> str:
        return (f'progressive, class-balanced weight {self.balance(self.epoch):.3g} at epoch '
                f'{self.epoch}, num_epochs={self.num_epochs}, begin_epoch={self.begin_epoch}')

    def _is_instance_balanced(self, epoch: int) -> bool:
        return self.balance(epoch) == 0.0
