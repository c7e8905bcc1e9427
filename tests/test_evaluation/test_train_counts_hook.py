"""TrainCountsHook: training counts reach LongTailAccuracy in training and test-only runs."""
from types import SimpleNamespace

import numpy as np
import pytest
from mmengine.config import Config
from mmengine.evaluator import Evaluator
from mmengine.registry import init_default_scope
from mmengine.runner import BaseLoop

from aliprod_plugins.evaluation import (LongTailAccuracy, TrainCountsHook, counts_from_dataset,
                                        load_class_counts)


class _Loop(BaseLoop):

    def run(self):
        pass


def fake_runner(metrics, train_dataset=None, train_dataloader_cfg=None):
    loop = None
    if train_dataset is not None:
        loop = _Loop.__new__(_Loop)
        loop.dataloader = SimpleNamespace(dataset=train_dataset)
    return SimpleNamespace(
        _train_loop=loop if loop is not None else train_dataloader_cfg,
        cfg=Config(dict(train_dataloader=train_dataloader_cfg)),
        val_evaluator=Evaluator(metrics), test_evaluator=Evaluator(metrics),
        logger=SimpleNamespace(info=lambda msg: None))


def test_training_run_uses_the_train_loop_dataset():
    dataset = SimpleNamespace(class_counts=np.array([5, 0, 7]),
                              class_counts_before_cap=np.array([9, 0, 7]))
    free, fixed = LongTailAccuracy(), LongTailAccuracy(class_counts=[1, 1, 1])
    TrainCountsHook().before_val(fake_runner([free, fixed], train_dataset=dataset))
    assert free.class_counts.tolist() == [5, 0, 7]
    assert fixed.class_counts.tolist() == [1, 1, 1]
    before = LongTailAccuracy()
    hook = TrainCountsHook(counts_attr='class_counts_before_cap')
    hook.before_test(fake_runner([before], train_dataset=dataset))
    assert before.class_counts.tolist() == [9, 0, 7]


def test_test_only_run_builds_the_config_training_dataset(tiny_root):
    init_default_scope('mmpretrain')
    # a plain MMPretrain dataset: no class_counts attribute, so its labels are counted
    cfg = dict(dataset=dict(type='CustomDataset', data_root=tiny_root, data_prefix='train',
                            pipeline=[dict(type='LoadImageFromFile')]))
    metric = LongTailAccuracy()
    TrainCountsHook().before_test(fake_runner([metric], train_dataloader_cfg=cfg))
    assert metric.class_counts.tolist() == [12, 8, 5, 3]


def test_unbuildable_training_dataset_skips_shot_metrics_with_the_reason(tmp_path):
    init_default_scope('mmpretrain')
    cfg = dict(dataset=dict(type='CustomDataset', data_root=str(tmp_path / 'missing'),
                            data_prefix='train', pipeline=[]))
    metric = LongTailAccuracy()
    TrainCountsHook().before_test(fake_runner([metric], train_dataloader_cfg=cfg))
    assert metric.class_counts is None
    assert 'could not build train_dataloader.dataset' in metric._missing_reason


def test_counts_from_wrapped_dataset_and_loading_errors(tmp_path):
    inner = SimpleNamespace(class_counts=[3, 4])
    assert counts_from_dataset(SimpleNamespace(dataset=inner)).tolist() == [3, 4]
    assert counts_from_dataset(SimpleNamespace()) is None
    with pytest.raises(FileNotFoundError, match='missing.npy'):
        load_class_counts(str(tmp_path / 'missing.npy'))
    with pytest.raises(ValueError, match='whole numbers'):
        load_class_counts(np.array([1.5, 2.0]))


def test_bad_counts_attr_is_named():
    with pytest.raises(ValueError, match="counts_attr must be 'class_counts'"):
        TrainCountsHook(counts_attr='counts')
