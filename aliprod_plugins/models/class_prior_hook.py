"""Give prior-dependent losses (``BalancedSoftmaxLoss``) the training set's class counts."""
from typing import List, Optional

import numpy as np
import torch
from mmengine.dist import broadcast, get_world_size
from mmengine.hooks import Hook
from mmpretrain.registry import HOOKS

from aliprod_plugins.evaluation.train_counts import counts_from_dataset
from aliprod_plugins.upstream import private_attr


@HOOKS.register_module()
class ClassPriorHook(Hook):
    """Set the class counts of every loss that has ``set_class_counts`` before training.

    The counts are those of the dataset the train loop uses (``AliProductsDataset.class_counts``,
    i.e. after ``max_per_class`` capping; other datasets: their labels counted), padded with
    zeros to the head's ``num_classes``. Under DDP rank 0's counts are broadcast, so every rank
    trains with the same prior. The counts are stored in the checkpoint
    (``meta['class_prior']``); a resumed run uses the stored ones (and warns if the dataset now
    gives others), a run started with ``load_from`` counts its own dataset.

    Config::

        custom_hooks = [dict(type='ClassPriorHook')]

    Args:
        counts_attr (str): Dataset attribute with the counts: ``'class_counts'`` (after
            capping) or ``'class_counts_before_cap'``. Defaults to ``'class_counts'``.
    """

    priority = 'ABOVE_NORMAL'

    def __init__(self, counts_attr: str = 'class_counts') -> None:
        if counts_attr not in ('class_counts', 'class_counts_before_cap'):
            raise ValueError("counts_attr must be 'class_counts' or 'class_counts_before_cap', "
                             f'got {counts_attr!r}')
        self.counts_attr = counts_attr
        self.counts: Optional[np.ndarray] = None
        self._restored: Optional[np.ndarray] = None

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        """On resume, keep the counts the run was started with."""
        saved = (checkpoint.get('meta') or {}).get('class_prior') or {}
        if private_attr(runner, '_resume') and saved.get('counts') is not None:
            self._restored = np.asarray(saved['counts'], dtype=np.int64)

    def before_train(self, runner) -> None:
        """Count the training set (or take the restored counts) and set every loss."""
        losses = self._prior_losses(runner.model)
        if not losses:
            runner.logger.warning('ClassPriorHook: the model has no loss with '
                                  'set_class_counts(); nothing to do')
            return
        counts, source = self._counts(runner)
        if get_world_size() > 1:
            # the capping is deterministic, but a prior that differs across ranks would train
            # each replica towards a different objective: rank 0's counts win
            tensor = torch.from_numpy(counts.copy())
            broadcast(tensor, 0)
            counts = tensor.numpy()
        for loss in losses:
            loss.set_class_counts(counts)
        self.counts = counts
        empty = int((counts == 0).sum())
        runner.logger.info(
            f'ClassPriorHook: prior of {len(counts)} classes from {int(counts.sum())} training '
            f'images ({source}); {empty} classes without images count as one image; set in '
            f'{len(losses)} loss module(s)')

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        """Store the counts, so that a resumed run trains with the same prior."""
        if self.counts is not None:
            checkpoint.setdefault('meta', {})['class_prior'] = dict(
                counts=[int(c) for c in self.counts], counts_attr=self.counts_attr)

    def _counts(self, runner):
        model = runner.model.module if hasattr(runner.model, 'module') else runner.model
        num_classes = getattr(getattr(model, 'head', None), 'num_classes', None)
        dataset = runner.train_dataloader.dataset
        counts = counts_from_dataset(dataset, self.counts_attr, num_classes)
        if counts is None:
            raise ValueError(f'ClassPriorHook expects a training dataset with '
                             f'{self.counts_attr} or labels, got {type(dataset).__name__} '
                             'without either')
        if num_classes is not None:
            if len(counts) > num_classes:
                raise ValueError(f'ClassPriorHook: the training set has {len(counts)} classes, '
                                 f'expected at most the head\'s num_classes={num_classes}')
            counts = np.pad(counts, (0, num_classes - len(counts)))
        source = f'training dataset, {self.counts_attr}'
        if self._restored is not None:
            if not np.array_equal(self._restored, counts):
                runner.logger.warning(
                    'ClassPriorHook: the training dataset now gives other class counts than '
                    'the resumed checkpoint; training continues with the checkpoint\'s prior')
            counts, source = self._restored, 'restored from the resumed checkpoint'
        return counts, source

    @staticmethod
    def _prior_losses(model) -> List[torch.nn.Module]:
        return [m for m in model.modules() if callable(getattr(m, 'set_class_counts', None))]
