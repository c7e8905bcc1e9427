"""Give prior-dependent losses (``BalancedSoftmaxLoss``) the label distribution they see."""
from typing import List, Optional, Tuple

import numpy as np
import torch
from mmengine.dist import broadcast, get_world_size
from mmengine.hooks import Hook
from mmpretrain.registry import HOOKS

from aliprod_plugins.engine.runner_parts import train_sampler, unwrap_model
from aliprod_plugins.evaluation.train_counts import counts_from_dataset
from aliprod_plugins.upstream import private_attr

#: samplers that visit every sample once per epoch: the labels follow the dataset's counts
UNIFORM_SAMPLERS = ('DefaultSampler', 'InfiniteSampler', 'SequentialSampler', 'RandomSampler')


@HOOKS.register_module()
class ClassPriorHook(Hook):
    """Set the prior of every loss with ``set_class_prior`` to what the train sampler draws.

    The prior of an epoch is the train sampler's class probabilities for that epoch
    (``class_probs(epoch)`` of our samplers, times the samples per epoch), padded with zeros to
    the head's ``num_classes``: with ``InstanceBalancedSampler`` (or MMEngine's
    ``DefaultSampler``, which has no ``class_probs``) that is the dataset's class counts after
    capping, with ``ClassBalancedSampler`` a uniform prior, with ``ProgressivelyBalancedSampler``
    one that changes every epoch. It is recomputed at every epoch start, after
    ``StageSwitchHook`` has changed the sampler. Any other sampler is refused before training:
    its label distribution is unknown. Under DDP rank 0's prior is broadcast. The dataset's
    counts are stored in the checkpoint (``meta['class_prior']``); a resumed run whose dataset
    now gives other counts is warned.

    Config::

        custom_hooks = [dict(type='ClassPriorHook')]

    Args:
        counts_attr (str): Dataset attribute with the counts when the sampler visits every
            sample once (``DefaultSampler``): ``'class_counts'`` (after capping) or
            ``'class_counts_before_cap'``. Defaults to ``'class_counts'``.
    """

    priority = 'NORMAL'  # after StageSwitchHook (ABOVE_NORMAL) has switched the sampler

    def __init__(self, counts_attr: str = 'class_counts') -> None:
        if counts_attr not in ('class_counts', 'class_counts_before_cap'):
            raise ValueError("counts_attr must be 'class_counts' or 'class_counts_before_cap', "
                             f'got {counts_attr!r}')
        self.counts_attr = counts_attr
        self.counts: Optional[np.ndarray] = None  # the dataset's counts, padded
        self.prior: Optional[np.ndarray] = None  # expected labels per class in this epoch
        self._restored: Optional[np.ndarray] = None
        self._losses: List[torch.nn.Module] = []

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        """On resume, remember the counts the run was started with (to warn if they moved)."""
        saved = (checkpoint.get('meta') or {}).get('class_prior') or {}
        if private_attr(runner, '_resume') and saved.get('counts') is not None:
            self._restored = np.asarray(saved['counts'], dtype=np.int64)

    def before_train(self, runner) -> None:
        """Check that the sampler can say its class distribution and set the first prior."""
        self._losses = self._prior_losses(runner.model)
        if not self._losses:
            runner.logger.warning('ClassPriorHook: the model has no loss with '
                                  'set_class_prior(); nothing to do')
            return
        self.counts = self._dataset_counts(runner)
        if self._restored is not None and not np.array_equal(self._restored, self.counts):
            runner.logger.warning(
                'ClassPriorHook: the training dataset now gives other class counts than the '
                'resumed checkpoint; the prior follows what this run\'s sampler draws')
        for hook in getattr(runner, 'hooks', ()):  # a later stage's sampler: refused now
            later = getattr(hook, 'stage2_sampler', None)
            if later is not None:
                _check_can_say(later, f'{type(hook).__name__}\'s stage-2 sampler ')
        self._update(runner)

    def before_train_epoch(self, runner) -> None:
        """Recompute the prior: the sampler may have changed or may change every epoch."""
        if self._losses:
            self._update(runner)

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        """Store the dataset's counts and this epoch's prior."""
        if self.counts is not None:
            checkpoint.setdefault('meta', {})['class_prior'] = dict(
                counts=[int(c) for c in self.counts], counts_attr=self.counts_attr,
                expected=[float(c) for c in self.prior])

    def _update(self, runner) -> None:
        prior, source = self._sampler_prior(runner)
        if get_world_size() > 1:
            # every rank draws from the same global sequence; a prior that differed across
            # ranks would train each replica towards another objective: rank 0's wins
            tensor = torch.from_numpy(prior.copy())
            broadcast(tensor, 0)
            prior = tensor.numpy()
        if self.prior is not None and np.array_equal(prior, self.prior):
            return
        for loss in self._losses:
            loss.set_class_prior(prior)
        self.prior = prior
        runner.logger.info(
            f'ClassPriorHook: epoch {runner.epoch}: prior of {len(prior)} classes from '
            f'{source}; {int((prior < 1).sum())} classes expected less than once count as '
            f'once; set in {len(self._losses)} loss module(s)')

    def _sampler_prior(self, runner) -> Tuple[np.ndarray, str]:
        loader = runner.train_loop.dataloader
        sampler = train_sampler(loader)
        name = _check_can_say(sampler, 'the train sampler ')
        if callable(getattr(sampler, 'class_probs', None)):
            probs = np.asarray(sampler.class_probs(runner.epoch), dtype=np.float64)
            total = getattr(sampler, 'total_samples', None) or len(loader.dataset)
            expected, source = probs * total, f'{name}.class_probs({runner.epoch})'
        else:  # visits every sample once
            expected, source = self.counts.astype(np.float64), \
                f'the dataset\'s {self.counts_attr} ({name})'
        size = len(self.counts)
        if len(expected) > size:
            raise ValueError(f'ClassPriorHook: {name} gives probabilities for {len(expected)} '
                             f'classes, expected at most the head\'s num_classes={size}')
        return np.pad(expected, (0, size - len(expected))), source

    def _dataset_counts(self, runner) -> np.ndarray:
        model = unwrap_model(runner.model)
        num_classes = getattr(getattr(model, 'head', None), 'num_classes', None)
        dataset = runner.train_loop.dataloader.dataset
        counts = counts_from_dataset(dataset, self.counts_attr, num_classes)
        if counts is None:
            raise ValueError(f'ClassPriorHook expects a training dataset with '
                             f'{self.counts_attr} or labels, got {type(dataset).__name__} '
                             'without either')
        if num_classes is None:
            return counts
        if len(counts) > num_classes:
            raise ValueError(f'ClassPriorHook: the training set has {len(counts)} classes, '
                             f'expected at most the head\'s num_classes={num_classes}')
        return np.pad(counts, (0, num_classes - len(counts)))

    @staticmethod
    def _prior_losses(model) -> List[torch.nn.Module]:
        return [m for m in model.modules() if callable(getattr(m, 'set_class_prior', None))]


def _check_can_say(sampler, what: str) -> str:
    """Return the sampler's class name; raise if its label distribution is unknown."""
    name = type(sampler).__name__
    if not callable(getattr(sampler, 'class_probs', None)) and name not in UNIFORM_SAMPLERS:
        raise ValueError(
            f'ClassPriorHook expects {what}to give its class probabilities (class_probs(epoch), '
            f'as InstanceBalancedSampler, ClassBalancedSampler, RebalancedSampler and '
            f'ProgressivelyBalancedSampler do) or to visit every sample once '
            f'({", ".join(UNIFORM_SAMPLERS)}), got {name}: the labels the loss sees under it '
            f'are unknown')
    return name
