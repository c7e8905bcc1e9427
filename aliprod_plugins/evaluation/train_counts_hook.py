"""Give ``LongTailAccuracy`` the class counts of the run's training dataset."""
from typing import Optional

import numpy as np
from mmengine.dist import is_main_process
from mmengine.hooks import Hook
from mmengine.runner import BaseLoop
from mmpretrain.registry import HOOKS

from ..upstream import private_attr
from .long_tail_accuracy import LongTailAccuracy
from .train_counts import build_train_dataset, counts_from_dataset


@HOOKS.register_module()
class TrainCountsHook(Hook):
    """Set the training class counts of every ``LongTailAccuracy`` before it evaluates.

    In a training run the counts are those of the dataset the train loop uses; in a test-only
    run (``tools/test.py``) the config's ``train_dataloader.dataset`` is built without its
    pipeline, on rank 0 only (the metrics are computed there). So validation during training
    and ``tools/test.py`` use the same counts. A metric given ``class_counts`` explicitly
    keeps them. If no training dataset can be built, one warning is logged and the shot
    metrics are skipped (the metric logs why, once).

    Config::

        custom_hooks = [dict(type='TrainCountsHook')]

    Args:
        counts_attr (str): Dataset attribute with the counts: ``'class_counts'`` (after
            ``max_per_class`` capping, what the model trains on) or
            ``'class_counts_before_cap'``. Defaults to ``'class_counts'``.
    """
    priority = 'NORMAL'

    def __init__(self, counts_attr: str = 'class_counts') -> None:
        if counts_attr not in ('class_counts', 'class_counts_before_cap'):
            raise ValueError("counts_attr must be 'class_counts' or 'class_counts_before_cap', "
                             f'got {counts_attr!r}')
        self.counts_attr = counts_attr
        self._counts: Optional[np.ndarray] = None
        self._source = ''
        self._tried = False

    def before_val(self, runner) -> None:
        """Set the counts of the validation metrics."""
        self._apply(runner, runner.val_evaluator)

    def before_test(self, runner) -> None:
        """Set the counts of the test metrics."""
        self._apply(runner, runner.test_evaluator)

    def _apply(self, runner, evaluator) -> None:
        metrics = [m for m in getattr(evaluator, 'metrics', ()) if isinstance(m, LongTailAccuracy)]
        if not metrics or not is_main_process():
            return
        if not self._tried:
            self._tried = True
            self._counts, self._source = self._find_counts(runner)
            if self._counts is not None:
                runner.logger.info(f'TrainCountsHook: {len(self._counts)} classes, '
                                   f'{int(self._counts.sum())} training images ({self._source})')
        for metric in metrics:
            # without counts the metric logs the reason once and skips the shot metrics
            metric.set_train_counts(self._counts, self._source)

    def _find_counts(self, runner):
        loop = private_attr(runner, '_train_loop')
        if isinstance(loop, BaseLoop):
            dataset, source = loop.dataloader.dataset, 'the training dataset of this run'
        else:
            cfg = runner.cfg.get('train_dataloader')
            source = 'train_dataloader.dataset of the config'
            try:
                dataset = build_train_dataset(cfg)
            except Exception as err:  # noqa: BLE001  a missing train split must not stop a test
                return None, (f'TrainCountsHook could not build {source} '
                              f'({type(err).__name__}: {err})')
        counts = None if dataset is None else counts_from_dataset(dataset, self.counts_attr)
        if counts is None:
            return None, f'TrainCountsHook found no class counts in {source}'
        how = self.counts_attr if hasattr(dataset, self.counts_attr) else 'labels counted'
        return counts, f'{source}, {how}'
