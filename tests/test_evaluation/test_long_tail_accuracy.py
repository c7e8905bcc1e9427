"""LongTailAccuracy through MMEngine's Evaluator, as in a validation loop."""
import math

import numpy as np
import pytest
import torch
from mmengine.evaluator import Evaluator
from mmpretrain.registry import METRICS
from mmpretrain.structures import DataSample

import aliprod_plugins.evaluation.long_tail_accuracy as lta_module
from aliprod_plugins.evaluation import LongTailAccuracy

# 4 classes, training counts: many {0}, medium {1}, few {2, 3}; class 3 is never evaluated
COUNTS = [300, 50, 10, 2]
SCORES = torch.tensor([
    [0.7, 0.2, 0.1, 0.0],  # gt 0, top-1 hit
    [0.1, 0.6, 0.3, 0.0],  # gt 0, top-3 hit only
    [0.2, 0.5, 0.3, 0.0],  # gt 1, top-1 hit
    [0.4, 0.3, 0.3, 0.0],  # gt 2, tie 1/2 at rank 2: class 1 first, so a top-3 hit only
    [0.1, 0.1, 0.8, 0.0],  # gt 2, top-1 hit
])
GT = [0, 0, 1, 2, 2]


def data_samples(scores=SCORES, gt=GT, as_views=True):
    rows = scores if as_views else [s.clone() for s in scores]
    return [DataSample().set_pred_score(s).set_gt_label(g) for s, g in zip(rows, gt)]


def evaluate(metric, samples, batch=2, meta=None):
    evaluator = Evaluator(metric)
    evaluator.dataset_meta = meta or {'classes': ('00000', '00001', '00002', '00003')}
    for i in range(0, len(samples), batch):
        evaluator.process(samples[i:i + batch])
    return evaluator.evaluate(len(samples))


def test_metrics_match_the_hand_computed_values():
    metric = METRICS.build(dict(type='LongTailAccuracy', topk=(1, 2, 3), class_counts=COUNTS))
    res = evaluate(metric, data_samples())
    class_acc = {0: 50.0, 1: 100.0, 2: 50.0}
    expected = {
        'top1': 60.0, 'top2': 60.0, 'top3': 100.0, 'top1_error': 40.0,
        'mean_class_acc': np.mean(list(class_acc.values())),
        'mean_class_error': 100 - np.mean(list(class_acc.values())),
        'many_shot_acc': 50.0, 'medium_shot_acc': 100.0, 'few_shot_acc': 50.0}
    assert res == pytest.approx({f'longtail/{k}': v for k, v in expected.items()})
    assert metric.per_class['eval_count'].tolist() == [2, 1, 2, 0]
    assert math.isnan(metric.per_class['top1_acc'][3])
    assert metric.results == []  # cleared for the next evaluation


def test_copies_and_row_views_of_one_batch_give_the_same_result():
    a = evaluate(LongTailAccuracy(topk=(1, 2), class_counts=COUNTS), data_samples())
    b = evaluate(LongTailAccuracy(topk=(1, 2), class_counts=COUNTS),
                 data_samples(as_views=False))
    assert a == b


def test_only_topk_int32_labels_are_kept_per_sample():
    metric = LongTailAccuracy(topk=(1, 5))
    scores = torch.rand(7, 1000)
    metric.process(None, [s.to_dict() for s in data_samples(scores, list(range(7)))])
    (batch, ) = metric.results
    assert batch['pred'].dtype == np.int32 and batch['pred'].shape == (7, 5)
    assert batch['gt'].dtype == np.int32 and batch['gt'].shape == (7, )
    np.testing.assert_array_equal(batch['pred'], torch.topk(scores, 5).indices.numpy())


def test_pred_label_is_enough_for_top1_only():
    samples = [DataSample().set_pred_label(p).set_gt_label(g) for p, g in [(0, 0), (2, 1)]]
    res = evaluate(LongTailAccuracy(topk=1), samples)
    assert res['longtail/top1'] == 50.0
    with pytest.raises(ValueError, match='top-5 accuracy needs `pred_score`'):
        evaluate(LongTailAccuracy(topk=(1, 5)), samples)


def test_missing_counts_skip_the_shot_metrics_with_one_warning(monkeypatch):
    warnings = []

    class Logger:
        warning = warnings.append

    monkeypatch.setattr(lta_module.MMLogger, 'get_current_instance', lambda: Logger)
    metric = LongTailAccuracy(topk=(1, ))
    for _ in range(2):
        res = evaluate(metric, data_samples())
    assert 'longtail/many_shot_acc' not in res and res['longtail/top1'] == 60.0
    assert len(warnings) == 1 and 'TrainCountsHook' in warnings[0]


def test_class_counts_from_npy_file(tmp_path):
    path = str(tmp_path / 'counts.npy')
    np.save(path, np.array(COUNTS))
    res = evaluate(LongTailAccuracy(topk=(1, ), class_counts=path), data_samples())
    assert res['longtail/medium_shot_acc'] == 100.0


def test_set_train_counts_does_not_override_explicit_counts():
    metric = LongTailAccuracy(class_counts=COUNTS)
    metric.set_train_counts(np.array([1, 1, 1, 1]), 'somewhere')
    assert metric.class_counts.tolist() == COUNTS
    other = LongTailAccuracy()
    other.set_train_counts(np.array([1, 1, 1, 200]), 'the training set')
    assert other.class_counts.tolist() == [1, 1, 1, 200]


@pytest.mark.parametrize('kwargs, match', [
    (dict(topk=0), 'LongTailAccuracy: topk expected an int >= 1, got 0'),
    (dict(topk=(1, 'a')), "topk expected an int >= 1, got 'a'"),
    (dict(topk=()), 'topk must be a positive int or a sequence of them'),
    (dict(many_shot_thr=10, few_shot_thr=20), 'few_shot_thr must be <= many_shot_thr'),
    (dict(many_shot_thr=-1), 'many_shot_thr expected an int >= 0, got -1'),
    (dict(class_counts='counts.txt'), 'path to a .npy file'),
    (dict(class_counts=[[1, 2]]), 'non-empty 1-D array'),
    (dict(class_counts=[3, -1]), 'must be >= 0'),
])
def test_bad_options_name_the_option(kwargs, match):
    with pytest.raises(ValueError, match=match):
        LongTailAccuracy(**kwargs)


def test_counts_and_dataset_classes_must_agree():
    metric = LongTailAccuracy(class_counts=[5, 5, 5])
    with pytest.raises(ValueError, match='have 3 entries but the evaluated dataset has 4'):
        evaluate(metric, data_samples())


def test_unlabelled_samples_point_to_the_submission_writer():
    samples = [DataSample().set_pred_score(torch.rand(4))]
    with pytest.raises(ValueError, match='--submission'):
        evaluate(LongTailAccuracy(), samples)
