"""BalancedSoftmaxLoss against a hand computation; ClassPriorHook on resume and under DDP."""
import glob
import math
import os.path as osp
import sys
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from conftest import REPO_ROOT, demo_overrides, run_gloo_ranks, run_tool
from mmengine.logging import MMLogger
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

import aliprod_plugins  # noqa: F401  registration
from aliprod_plugins.engine import safe_load
from aliprod_plugins.models import BalancedSoftmaxLoss, ClassPriorHook
from aliprod_plugins.testing.tiny_model import tiny_classifier

LOGITS = [[1.0, 2.0, 0.0], [0.0, 0.0, 3.0], [0.5, -1.0, 1.0]]
LABELS = [1, 2, 0]


def hand_loss(logits, labels, counts, tau):
    """-log softmax(z + tau * log(n / N))[y], averaged, written out with math only."""
    counts = [max(c, 1) for c in counts]  # an empty class counts as one image
    total = sum(counts)
    losses = []
    for z, y in zip(logits, labels):
        adj = [v + tau * math.log(c / total) for v, c in zip(z, counts)]
        losses.append(-(adj[y] - math.log(sum(math.exp(a) for a in adj))))
    return sum(losses) / len(losses)


@pytest.mark.parametrize('tau,counts', [(1.0, [6, 3, 1]), (0.5, [50, 10, 0]), (0.0, [6, 3, 1])])
def test_loss_matches_hand_computation(tau, counts):
    loss = BalancedSoftmaxLoss(tau=tau)
    loss.set_class_counts(np.array(counts))
    got = loss(torch.tensor(LOGITS), torch.tensor(LABELS), avg_factor=3)
    assert got.item() == pytest.approx(hand_loss(LOGITS, LABELS, counts, tau), rel=1e-5)
    # soft targets (mixup / label smoothing) give the same value for one-hot targets
    onehot = torch.nn.functional.one_hot(torch.tensor(LABELS), 3).float()
    assert loss(torch.tensor(LOGITS), onehot, avg_factor=3).item() == pytest.approx(
        got.item(), rel=1e-5)


def test_loss_weight_scales_the_loss():
    loss = BalancedSoftmaxLoss(tau=1.0, loss_weight=2.5)
    loss.set_class_counts([6, 3, 1])
    got = loss(torch.tensor(LOGITS), torch.tensor(LABELS), avg_factor=3)
    assert got.item() == pytest.approx(2.5 * hand_loss(LOGITS, LABELS, [6, 3, 1], 1.0), rel=1e-5)


def test_loss_needs_a_prior_of_the_right_size():
    loss = BalancedSoftmaxLoss()
    with pytest.raises(RuntimeError, match='ClassPriorHook'):
        loss(torch.zeros(2, 3), torch.tensor([0, 1]))
    loss.set_class_counts([4, 2])
    with pytest.raises(ValueError, match='2 classes of its prior, got 3'):
        loss(torch.zeros(2, 3), torch.tensor([0, 1]))
    with pytest.raises(ValueError, match='tau must be a number >= 0'):
        BalancedSoftmaxLoss(tau=-1)


def _classifier(loss: dict, num_classes: int = 3):
    torch.manual_seed(0)
    return MODELS.build(tiny_classifier(num_classes, loss=loss))


def test_training_loss_uses_the_prior_but_predictions_are_unchanged():
    plain = _classifier(dict(type='CrossEntropyLoss')).eval()
    balanced = _classifier(dict(type='BalancedSoftmaxLoss'))
    balanced.load_state_dict(plain.state_dict())
    balanced.eval()
    counts = [90, 9, 1]
    balanced.head.loss_module.set_class_counts(counts)
    inputs = torch.randn(4, 3, 16, 16)
    samples = [DataSample().set_gt_label(y) for y in (0, 1, 2, 2)]
    with torch.no_grad():
        pred_plain = plain(inputs, [DataSample() for _ in range(4)], mode='predict')
        pred_bal = balanced(inputs, [DataSample() for _ in range(4)], mode='predict')
        for a, b in zip(pred_plain, pred_bal):
            torch.testing.assert_close(a.pred_score, b.pred_score)
        logits = plain(inputs, mode='tensor')
        loss = balanced(inputs, samples, mode='loss')['loss']
    expected = hand_loss(logits.tolist(), [0, 1, 2, 2], counts, 1.0)
    assert loss.item() == pytest.approx(expected, rel=1e-4)
    assert abs(loss.item() - hand_loss(logits.tolist(), [0, 1, 2, 2], counts, 0.0)) > 0.1


class _Dataset:
    def __init__(self, counts):
        self.class_counts = np.asarray(counts, dtype=np.int64)


def _runner(model, counts, resume=False, sampler=None):
    loader = SimpleNamespace(dataset=_Dataset(counts), sampler=sampler or DefaultSampler())
    return SimpleNamespace(model=model, train_loop=SimpleNamespace(dataloader=loader), epoch=0,
                           logger=MMLogger.get_instance('test_prior'), _resume=resume)


class DefaultSampler:
    """Stands for MMEngine's DefaultSampler: every sample once per epoch, no class_probs."""


def test_hook_sets_pads_saves_and_restores_the_prior():
    model = _classifier(dict(type='BalancedSoftmaxLoss'))
    hook = ClassPriorHook()
    hook.before_train(_runner(model, [5, 2]))  # a dataset without the last class: padded
    np.testing.assert_array_equal(model.head.loss_module.class_counts, [5, 2, 0])
    ckpt = {'meta': {}}
    hook.before_save_checkpoint(None, ckpt)
    assert ckpt['meta']['class_prior']['counts'] == [5, 2, 0]
    # resumed with a dataset that now gives other counts: warned, and the prior follows what
    # this run's sampler draws (the labels the loss sees)
    resumed_model = _classifier(dict(type='BalancedSoftmaxLoss'))
    resumed = ClassPriorHook()
    runner = _runner(resumed_model, [7, 7, 7], resume=True)
    resumed.after_load_checkpoint(runner, ckpt)
    resumed.before_train(runner)
    assert resumed._restored.tolist() == [5, 2, 0]
    np.testing.assert_array_equal(resumed_model.head.loss_module.class_counts, [7, 7, 7])
    # load_from (not a resume): the run counts its own dataset
    fresh_model = _classifier(dict(type='BalancedSoftmaxLoss'))
    fresh = ClassPriorHook()
    runner = _runner(fresh_model, [7, 7, 7], resume=False)
    fresh.after_load_checkpoint(runner, ckpt)
    fresh.before_train(runner)
    np.testing.assert_array_equal(fresh_model.head.loss_module.class_counts, [7, 7, 7])


def _rank_prior(rank, world_size):
    # a DDP-wrapped model whose head (5 classes) is larger than the dataset's class set (3)
    torch.set_num_threads(1)  # forked from a process whose thread pools are running
    model = _classifier(dict(type='BalancedSoftmaxLoss'), num_classes=5)
    wrapped = torch.nn.parallel.DistributedDataParallel(model)
    # each rank's dataset gives other counts: rank 0's must win everywhere
    ClassPriorHook().before_train(_runner(wrapped, [10 + rank, 5, 1 + 3 * rank]))
    return model.head.loss_module.class_counts.tolist()


def test_every_ddp_rank_trains_with_rank_0_prior_padded_to_the_head():
    results = run_gloo_ranks(_rank_prior, world_size=2)
    assert results == {0: [10, 5, 1, 0, 0], 1: [10, 5, 1, 0, 0]}


def test_train_tool_sets_stores_and_restores_the_prior(tiny_root, tmp_path):
    config = osp.join(REPO_ROOT, 'configs', 'demo', 'digits_lt_balanced_softmax.py')
    work = str(tmp_path / 'bs')
    train = [sys.executable, osp.join(REPO_ROOT, 'tools', 'train.py'), config, '--work-dir',
             work, '--no-validate']
    run_tool(train + ['--cfg-options', *demo_overrides(tiny_root, max_epochs=1)])
    # the tiny root's training split has 12, 8, 5 and 3 images (under the demo's cap of 110)
    meta = safe_load(osp.join(work, 'epoch_1.pth'), map_location='cpu')['meta']
    assert meta['class_prior']['counts'] == [12, 8, 5, 3]
    # resumed with a cap that changes the counts
    run_tool(train + ['--resume', '--cfg-options', *demo_overrides(tiny_root, max_epochs=2),
                      'train_dataloader.dataset.max_per_class=4'])
    log = open(sorted(glob.glob(osp.join(work, '*', '*.log')))[-1]).read()
    assert 'now gives other class counts than the resumed checkpoint' in log
    # the prior follows the labels this run's sampler draws: the new cap's
    meta = safe_load(osp.join(work, 'epoch_2.pth'), map_location='cpu')['meta']
    assert meta['class_prior']['counts'] == [4, 4, 4, 3]
    assert meta['class_prior']['expected'] == pytest.approx([4, 4, 4, 3])
