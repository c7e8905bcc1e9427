"""ClassPriorHook gives the loss the label distribution the train sampler draws, every epoch."""
import uuid
from types import SimpleNamespace

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.logging import MMLogger
from mmengine.runner import Runner
from mmpretrain.registry import DATA_SAMPLERS, DATASETS, MODELS
from test_balanced_softmax import _classifier
from torch.utils.data import WeightedRandomSampler

import aliprod_plugins  # noqa: F401  registration
from aliprod_plugins.models import BalancedSoftmaxLoss, ClassPriorHook
from aliprod_plugins.samplers import (ClassBalancedSampler, InstanceBalancedSampler,
                                      ProgressivelyBalancedSampler, RebalancedSampler)

COUNTS = np.array([30, 6, 4])  # 40 samples


class Labels:
    def __init__(self, counts):
        self.labels = np.repeat(np.arange(len(counts)), counts)
        self.class_counts = np.asarray(counts)

    def __len__(self):
        return len(self.labels)

    def get_gt_labels(self):
        return self.labels


def _runner(model, sampler, dataset):
    loader = SimpleNamespace(dataset=dataset, sampler=sampler)
    return SimpleNamespace(model=model, train_loop=SimpleNamespace(dataloader=loader), epoch=0,
                           logger=MMLogger.get_instance('test_prior_sampler'), _resume=False)


@pytest.mark.parametrize('make,expected', [
    (lambda d: InstanceBalancedSampler(d, seed=0), COUNTS),
    (lambda d: ClassBalancedSampler(d, seed=0), [40 / 3] * 3),
    (lambda d: RebalancedSampler(d, power=0.5, seed=0),
     40 * np.sqrt(COUNTS) / np.sqrt(COUNTS).sum()),
    (lambda d: RebalancedSampler(d, power=2.0, seed=0, num_samples=80),
     80 * COUNTS**2 / (COUNTS**2).sum()),
])
def test_prior_is_what_the_sampler_draws(make, expected):
    dataset = Labels(COUNTS)
    model = _classifier(dict(type='BalancedSoftmaxLoss'), num_classes=4)
    ClassPriorHook().before_train(_runner(model, make(dataset), dataset))
    # padded to the head's 4 classes; the fourth is never drawn (counts as once in the loss)
    np.testing.assert_allclose(model.head.loss_module.class_counts, list(expected) + [0])


def test_progressive_prior_changes_every_epoch():
    dataset = Labels(COUNTS)
    model = _classifier(dict(type='BalancedSoftmaxLoss'))
    runner = _runner(model, ProgressivelyBalancedSampler(dataset, num_epochs=2, seed=0), dataset)
    hook = ClassPriorHook()
    hook.before_train(runner)
    seen = []
    for epoch in range(3):
        runner.epoch = epoch
        hook.before_train_epoch(runner)
        seen.append(model.head.loss_module.class_counts.copy())
    np.testing.assert_allclose(seen[0], COUNTS)
    np.testing.assert_allclose(seen[1], (COUNTS + 40 / 3) / 2)
    np.testing.assert_allclose(seen[2], [40 / 3] * 3)


def test_a_sampler_that_cannot_say_is_refused():
    dataset = Labels(COUNTS)
    model = _classifier(dict(type='BalancedSoftmaxLoss'))
    sampler = WeightedRandomSampler(np.ones(40), 40)
    with pytest.raises(ValueError, match='got WeightedRandomSampler: the labels the loss sees'):
        ClassPriorHook().before_train(_runner(model, sampler, dataset))


# --------------------------------------------- in a real run, across a StageSwitchHook switch
@DATASETS.register_module(force=True)
class ToyPriorDataset(Labels):
    """COUNTS as 4-d points."""

    def __init__(self):
        super().__init__(COUNTS)
        self.metainfo = dict(classes=('00000', '00001', '00002'))

    def __getitem__(self, idx):
        return dict(inputs=torch.full((4, ), float(self.labels[idx])), labels=int(self.labels[idx]))


@MODELS.register_module(force=True)
class ToyPriorClassifier(torch.nn.Module):
    """A linear classifier trained with BalancedSoftmaxLoss (4-d inputs, 3 classes)."""

    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(4, 3)
        self.loss = BalancedSoftmaxLoss()

    def train_step(self, data, optim_wrapper):
        loss = self.loss(self.fc(data['inputs']), data['labels'])
        optim_wrapper.update_params(loss)
        return dict(loss=loss)


class PriorProbe(Hook):
    priority = 'LOWEST'

    def __init__(self):
        self.by_epoch = {}

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        self.by_epoch.setdefault(runner.epoch, runner.model.loss.class_counts.copy())


def switch_runner(tmp_path, stage2_sampler: str, **cfg):
    """A 3-epoch runner switching from DefaultSampler to ``stage2_sampler`` at epoch 2, probed."""
    cfg = Config(dict(
        model=dict(type='ToyPriorClassifier'), work_dir=str(tmp_path),
        train_dataloader=dict(batch_size=8, num_workers=0, sampler=dict(type='DefaultSampler'),
                              dataset=dict(type='ToyPriorDataset'),
                              collate_fn=dict(type='default_collate')),
        train_cfg=dict(by_epoch=True, max_epochs=3),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1)),
        custom_hooks=[dict(type='StageSwitchHook', switch_epoch=2,
                           sampler=dict(type=stage2_sampler)),
                      dict(type='ClassPriorHook')],
        default_scope='mmpretrain', randomness=dict(seed=0), log_level='WARNING',
        experiment_name=f'prior_{uuid.uuid4().hex}', **cfg))
    runner = Runner.from_cfg(cfg)
    probe = PriorProbe()
    runner.register_hook(probe)
    return runner, probe


def test_prior_is_recomputed_when_the_stage_switch_changes_the_sampler(tmp_path):
    runner, probe = switch_runner(
        tmp_path, 'ClassBalancedSampler',
        default_hooks=dict(checkpoint=dict(type='CheckpointHook', interval=10)))
    runner.train()
    np.testing.assert_allclose(probe.by_epoch[0], COUNTS)  # DefaultSampler: the counts
    np.testing.assert_allclose(probe.by_epoch[1], COUNTS)
    np.testing.assert_allclose(probe.by_epoch[2], [40 / 3] * 3)  # class-balanced after the switch
    assert F.softmax(runner.model.loss.log_prior, 0).tolist() == pytest.approx([1 / 3] * 3)


@DATA_SAMPLERS.register_module(force=True)
class ToyOpaqueSampler(torch.utils.data.Sampler):
    """A sampler that does not say which labels it draws."""

    def __init__(self, dataset, seed=None):
        self.n = len(dataset)

    def __iter__(self):
        return iter(range(self.n))

    def __len__(self):
        return self.n


def test_a_later_stage_sampler_that_cannot_say_is_refused_before_training(tmp_path):
    runner, probe = switch_runner(tmp_path, 'ToyOpaqueSampler')
    with pytest.raises(ValueError, match="StageSwitchHook's stage-2 sampler to give its class"):
        runner.train()
    assert probe.by_epoch == {}  # before the first iteration
