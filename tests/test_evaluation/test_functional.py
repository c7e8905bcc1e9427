"""Hand-computed checks of the long-tail metrics and of the tie rule."""
import math

import numpy as np
import pytest
import torch

from aliprod_plugins.evaluation.functional import long_tail_metrics, shot_masks, topk_labels


def test_topk_labels_break_ties_towards_the_lower_index():
    scores = torch.tensor([
        [1., 2., 2., 2., 0., 2.],  # four-way tie at the top, cut inside it
        [0., 0., 0., 0., 0., 0.],  # everything tied
        [5., 4., 3., 2., 1., 0.],  # no tie
        [3., 1., 3., 1., 1., 0.],  # tie inside the kept set and across the cut
    ])
    assert topk_labels(scores, 3).tolist() == [[1, 2, 3], [0, 1, 2], [0, 1, 2], [0, 2, 1]]
    assert topk_labels(scores, 1).tolist() == [[1], [0], [0], [0]]
    # k >= C: the full stable descending order
    assert topk_labels(scores, 9).tolist()[0] == [1, 2, 3, 5, 0, 4]


def test_topk_labels_match_a_stable_sort_on_heavily_tied_scores():
    rng = np.random.default_rng(0)
    scores = rng.integers(0, 4, size=(300, 40)).astype(np.float32)
    expected = np.argsort(-scores, axis=1, kind='stable')[:, :5]
    got = topk_labels(torch.from_numpy(scores), 5).numpy()
    np.testing.assert_array_equal(got, expected)


def test_shot_groups_use_strict_outer_and_inclusive_middle_bounds():
    masks = shot_masks(np.array([101, 100, 20, 19, 0]), many_shot_thr=100, few_shot_thr=20)
    assert masks['many'].tolist() == [True, False, False, False, False]
    assert masks['medium'].tolist() == [False, True, True, False, False]
    assert masks['few'].tolist() == [False, False, False, True, True]


def test_metrics_against_a_hand_computed_example():
    # 6 classes; class 4 has no evaluated sample (absent), class 5 neither.
    train_counts = np.array([150, 101, 60, 20, 5, 3])  # many {0, 1}, medium {2, 3}, few {4, 5}
    gt = np.array([0, 0, 0, 1, 2, 2, 3, 3])
    pred = np.array([
        [0, 1, 2], [1, 0, 2], [0, 2, 1],  # class 0: 2/3 top-1, 3/3 top-2
        [0, 3, 1],                         # class 1: 0/1 top-1, 0/1 top-2, 1/1 top-3
        [2, 0, 1], [2, 1, 0],              # class 2: 2/2
        [4, 3, 0], [5, 4, 2],              # class 3: 0/2 top-1, 1/2 top-2
    ])
    metrics, per_class = long_tail_metrics(pred, gt, topk=(1, 2, 3), num_classes=6,
                                           train_counts=train_counts)
    assert metrics['top1'] == pytest.approx(100 * 4 / 8)
    assert metrics['top2'] == pytest.approx(100 * 6 / 8)
    assert metrics['top3'] == pytest.approx(100 * 7 / 8)
    assert metrics['top1_error'] == pytest.approx(50.0)
    class_acc = [200 / 3, 0.0, 100.0, 0.0]  # classes 4 and 5 are absent: not averaged as 0
    assert metrics['mean_class_acc'] == pytest.approx(np.mean(class_acc))
    assert metrics['mean_class_error'] == pytest.approx(100 - np.mean(class_acc))
    assert metrics['many_shot_acc'] == pytest.approx((200 / 3 + 0) / 2)
    assert metrics['medium_shot_acc'] == pytest.approx((100 + 0) / 2)
    assert math.isnan(metrics['few_shot_acc'])  # no evaluated few-shot class
    assert per_class['eval_count'].tolist() == [3, 1, 2, 2, 0, 0]
    assert per_class['correct'].tolist() == [2, 0, 2, 0, 0, 0]
    np.testing.assert_allclose(per_class['top1_acc'][:4], class_acc)
    assert np.isnan(per_class['top1_acc'][4:]).all()
    assert per_class['train_count'].tolist() == train_counts.tolist()


def test_without_counts_the_shot_metrics_are_absent():
    metrics, per_class = long_tail_metrics(np.array([[1], [1]]), np.array([0, 1]), topk=(1, ))
    assert set(metrics) == {'top1', 'top1_error', 'mean_class_acc', 'mean_class_error'}
    assert metrics['mean_class_acc'] == pytest.approx(50.0)
    assert per_class['train_count'].tolist() == [-1, -1]


def test_out_of_range_labels_are_rejected_with_the_class_count():
    with pytest.raises(ValueError, match=r'ground-truth label 7 is outside \[0, 3\)'):
        long_tail_metrics(np.array([[0]]), np.array([7]), topk=(1, ), num_classes=3)
    with pytest.raises(ValueError, match='one entry per class'):
        long_tail_metrics(np.array([[0]]), np.array([0]), num_classes=3,
                          train_counts=np.array([1, 2]))
