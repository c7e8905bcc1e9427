"""StageSwitchHook: unit tests on a toy classifier trained by a real MMEngine Runner, then end
to end through tools/train.py (two-stage run, kill and resume) and tools/dist_train.sh (2 CPU
processes) on a tiny generated AliProducts-layout root.
"""
import copy
import glob
import os.path as osp
import re
import signal
import socket
import subprocess
import time
import uuid

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from conftest import REPO_ROOT, demo_overrides, run_tool, tool_env
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.model import BaseModel, BaseModule
from mmengine.runner import Runner
from mmpretrain.registry import DATASETS, MODELS
from torch import nn

from aliprod_plugins.hooks import StageSwitchHook
from aliprod_plugins.samplers import ClassBalancedSampler

COUNTS = (30, 6, 4)  # 40 samples, 5 iterations of 8 per epoch


@DATASETS.register_module(force=True)
class ToyLongTailDataset:
    """40 labelled 4-d points in three long-tailed classes."""

    def __init__(self):
        rng = np.random.default_rng(0)
        self.labels = np.repeat(np.arange(3), COUNTS)
        self.feats = (rng.normal(size=(len(self.labels), 4))
                      + 2 * np.eye(4)[self.labels]).astype(np.float32)
        self.metainfo = dict(classes=('00000', '00001', '00002'))

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, idx):
        return dict(inputs=torch.from_numpy(self.feats[idx]), labels=int(self.labels[idx]))

    def get_gt_labels(self):
        return self.labels


class ToyHead(BaseModule):

    def __init__(self):
        super().__init__(init_cfg=dict(type='Normal', layer='Linear', std=0.01))
        self.fc = nn.Linear(8, 3)


@MODELS.register_module(force=True)
class ToySwitchClassifier(BaseModel):
    """backbone (Linear + BatchNorm) -> neck (Linear) -> head (Linear)."""

    def __init__(self):
        super().__init__()
        self.backbone = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU())
        self.neck = nn.Linear(8, 8)
        self.head = ToyHead()

    def forward(self, inputs, labels=None, mode='loss'):
        logits = self.head.fc(self.neck(self.backbone(inputs)))
        if mode == 'loss':
            return dict(loss=F.cross_entropy(logits, labels))
        return logits


class Probe(Hook):
    """Records, at every training iteration, what the switch is supposed to change."""

    priority = 'LOWEST'

    def __init__(self):
        self.records = []

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        model = runner.model
        loader = runner.train_loop.dataloader
        self.records.append(dict(
            epoch=runner.epoch, batch_idx=batch_idx, sampler=loader.sampler,
            sampler_epoch=getattr(loader.sampler, 'epoch', None), dataset=loader.dataset,
            lrs=[g['lr'] for g in runner.optim_wrapper.optimizer.param_groups],
            bn_training=model.backbone[1].training,
            requires_grad=[p.requires_grad for p in model.backbone.parameters()],
            state={k: v.clone() for k, v in model.state_dict().items()}))

    def at(self, epoch, batch_idx=0):
        return next(r for r in self.records if (r['epoch'], r['batch_idx']) == (epoch, batch_idx))


def make_cfg(work_dir, hook=None, max_epochs=4, **loader):
    train_dataloader = dict(batch_size=8, num_workers=0, sampler=dict(type='DefaultSampler'),
                            dataset=dict(type='ToyLongTailDataset'),
                            collate_fn=dict(type='default_collate'))
    train_dataloader.update(loader)
    cfg = dict(
        model=dict(type='ToySwitchClassifier'),
        work_dir=str(work_dir),
        train_dataloader=train_dataloader,
        train_cfg=dict(by_epoch=True, max_epochs=max_epochs),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=1e-2)),
        # milestone 3 lies after the switch: the hook must keep it from changing the LR
        param_scheduler=dict(type='MultiStepLR', by_epoch=True, milestones=[1, 3], gamma=0.5),
        default_hooks=dict(checkpoint=dict(type='CheckpointHook', interval=1),
                           logger=dict(type='LoggerHook', interval=1)),
        custom_hooks=[] if hook is None else [hook],
        default_scope='mmpretrain',
        randomness=dict(seed=0),
        log_level='WARNING',
        experiment_name=f'switch_{uuid.uuid4().hex}',  # two runners in one second
    )
    return Config(cfg)


def train(cfg, resume_from=None):
    cfg = copy.deepcopy(cfg)
    cfg.experiment_name = f'switch_{uuid.uuid4().hex}'
    if resume_from is not None:
        cfg.resume, cfg.load_from = True, resume_from
    runner = Runner.from_cfg(cfg)
    probe = Probe()
    runner.register_hook(probe)
    runner.train()
    return runner, probe


def free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


HOOK = dict(type='StageSwitchHook', switch_epoch=2, sampler=dict(type='ClassBalancedSampler'),
            lr=1e-3, freeze_backbone=True, reinit_head=True)


@pytest.fixture(scope='module')
def two_stage(tmp_path_factory):
    """A 4-epoch run switching at epoch 2, with every option on."""
    work_dir = tmp_path_factory.mktemp('switch')
    cfg = make_cfg(work_dir, HOOK)
    runner, probe = train(cfg)
    return cfg, runner, probe, str(work_dir)


def test_switch_changes_sampler_lr_and_keeps_dataset(two_stage):
    _, runner, probe, _ = two_stage
    for epoch in (0, 1):
        rec = probe.at(epoch)
        assert type(rec['sampler']).__name__ == 'DefaultSampler'
        assert rec['lrs'] == [0.1 * 0.5**epoch]
    first = probe.at(0)
    for epoch in (2, 3):
        rec = probe.at(epoch)
        assert isinstance(rec['sampler'], ClassBalancedSampler)
        assert rec['sampler_epoch'] == epoch
        assert rec['dataset'] is first['dataset']  # not rebuilt
        assert rec['lrs'] == [1e-3]  # MultiStepLR's milestone 3 did not halve it
    assert runner.optim_wrapper.optimizer.param_groups[0]['lr'] == 1e-3
    assert probe.at(2)['sampler'] is probe.at(3)['sampler']


def test_frozen_backbone_and_neck_keep_their_values(two_stage):
    _, runner, probe, _ = two_stage
    at_switch, last = probe.at(2)['state'], runner.model.state_dict()
    frozen = [k for k in at_switch if k.startswith(('backbone.', 'neck.'))]
    assert 'backbone.1.running_mean' in frozen and 'neck.weight' in frozen
    for key in frozen:  # weights (despite weight decay and momentum) and BN statistics
        torch.testing.assert_close(last[key], at_switch[key], rtol=0, atol=0, msg=key)
    assert not torch.equal(last['head.fc.weight'], at_switch['head.fc.weight'])
    # stage 1 did train the backbone
    assert not torch.equal(probe.at(1)['state']['backbone.0.weight'],
                           probe.at(0)['state']['backbone.0.weight'])
    for epoch in (2, 3):
        for batch_idx in range(5):
            rec = probe.at(epoch, batch_idx)
            assert not rec['bn_training'] and not any(rec['requires_grad'])
    assert probe.at(1)['bn_training'] and all(probe.at(1)['requires_grad'])


def test_head_is_reinitialised_at_the_switch(two_stage):
    _, _, probe, _ = two_stage
    before = probe.at(1, 4)['state']['head.fc.weight']
    after = probe.at(2)['state']['head.fc.weight']
    assert not torch.equal(before, after)
    assert after.std() < 0.03 < before.std()  # Normal(std=0.01) from the head's init_cfg
    assert torch.all(probe.at(2)['state']['head.fc.bias'] == 0)


def test_checkpoint_records_the_switch(two_stage):
    from aliprod_plugins.engine import safe_load
    _, _, _, work_dir = two_stage
    assert safe_load(osp.join(work_dir, 'epoch_2.pth'))['meta']['stage_switch'] == dict(
        switch_epoch=2, applied=False)
    assert safe_load(osp.join(work_dir, 'epoch_3.pth'))['meta']['stage_switch']['applied']


@pytest.mark.parametrize('resume_epoch', [1, 2, 3])
def test_resume_before_at_and_after_the_switch(two_stage, resume_epoch, tmp_path):
    cfg, runner, probe, work_dir = two_stage
    cfg = copy.deepcopy(cfg)
    cfg.work_dir = str(tmp_path)
    resumed, rprobe = train(cfg, osp.join(work_dir, f'epoch_{resume_epoch}.pth'))
    first = rprobe.records[0]
    assert first['epoch'] == resume_epoch
    expect_stage2 = resume_epoch >= 2
    assert isinstance(first['sampler'], ClassBalancedSampler) == expect_stage2
    assert (first['lrs'] == [1e-3]) == expect_stage2
    assert (not any(first['requires_grad'])) == expect_stage2
    assert first['bn_training'] != expect_stage2
    # the resumed run continues exactly where the first one was (also the head: resuming
    # after the switch must not re-initialise it again)
    for epoch in range(resume_epoch, 4):
        for key, value in probe.at(epoch)['state'].items():
            torch.testing.assert_close(rprobe.at(epoch)['state'][key], value, msg=key)
        assert list(rprobe.at(epoch)['sampler']) == list(probe.at(epoch)['sampler'])
    for key, value in runner.model.state_dict().items():
        torch.testing.assert_close(resumed.model.state_dict()[key], value, msg=key)


def test_lr_mult_is_applied_once_across_resume(tmp_path):
    hook = dict(type='StageSwitchHook', switch_epoch=1, lr_mult=0.1)
    cfg = make_cfg(tmp_path / 'a', hook, max_epochs=3)
    _, probe = train(cfg)
    assert probe.at(1)['lrs'] == pytest.approx([0.1 * 0.5 * 0.1])  # milestone 1, then x0.1
    assert probe.at(2)['lrs'] == probe.at(1)['lrs']
    cfg.work_dir = str(tmp_path / 'b')
    _, rprobe = train(cfg, str(tmp_path / 'a' / 'epoch_2.pth'))
    assert rprobe.at(2)['lrs'] == probe.at(2)['lrs']


def test_freeze_only_keeps_sampler_and_schedule(tmp_path):
    hook = dict(type='StageSwitchHook', switch_epoch=1, sampler=None, freeze_backbone=True)
    _, probe = train(make_cfg(tmp_path, hook, max_epochs=2))
    assert probe.at(1)['sampler'] is probe.at(0)['sampler']
    assert probe.at(1)['lrs'] == [0.05]  # MultiStepLR still runs (milestone 1)
    assert not any(probe.at(1)['requires_grad']) and all(probe.at(0)['requires_grad'])


def test_persistent_workers_are_shut_down(tmp_path):
    hook = dict(type='StageSwitchHook', switch_epoch=1)
    cfg = make_cfg(tmp_path, hook, max_epochs=2, num_workers=1, persistent_workers=True)
    runner = Runner.from_cfg(cfg)
    probe = Probe()
    runner.register_hook(probe)
    loaders = []
    orig = StageSwitchHook._switch_sampler

    def spy(self, runner):
        loaders.append(runner.train_loop.dataloader)
        return orig(self, runner)

    StageSwitchHook._switch_sampler = spy
    try:
        runner.train()
    finally:
        StageSwitchHook._switch_sampler = orig
    old = loaders[0]
    assert old._iterator is None  # its worker was shut down, not leaked
    new = runner.train_loop.dataloader
    assert new is not old and new.persistent_workers and new.num_workers == 1
    assert isinstance(probe.at(1)['sampler'], ClassBalancedSampler)


@pytest.mark.parametrize('kwargs,match', [
    (dict(switch_epoch=-1), 'StageSwitchHook: switch_epoch expected an int >= 0, got -1'),
    (dict(switch_epoch=1.5), 'switch_epoch expected an int >= 0, got 1.5'),
    (dict(switch_epoch=1, lr=1e-3, lr_mult=0.1), 'only one of lr and lr_mult'),
    (dict(switch_epoch=1, lr=0), 'lr expected a number > 0 or None, got 0'),
    (dict(switch_epoch=1, lr_mult=-1.0), 'lr_mult expected a number > 0 or None'),
    (dict(switch_epoch=1, sampler='ClassBalancedSampler'), 'sampler must be a config dict'),
    (dict(switch_epoch=1, sampler=dict(type='NoSuchSampler')), 'registered in DATA_SAMPLERS'),
    (dict(switch_epoch=1, freeze_backbone='yes'), 'freeze_backbone expected a bool'),
    (dict(switch_epoch=1, sampler=None), 'expects something to switch'),
])
def test_bad_options(kwargs, match):
    with pytest.raises(ValueError, match=match):
        StageSwitchHook(**kwargs)


def test_switch_epoch_outside_the_run(tmp_path):
    cfg = make_cfg(tmp_path, dict(type='StageSwitchHook', switch_epoch=4), max_epochs=4)
    with pytest.raises(ValueError, match=r'switch_epoch must lie inside the run.*'
                       r'max_epochs=4\), got 4'):
        Runner.from_cfg(cfg).train()


# ---------------------------------------------------------------- end to end through the tools
TWO_STAGE = """_base_ = [{base!r}]
custom_hooks = [
    dict(type='StageSwitchHook', switch_epoch=1, sampler=dict(type='ClassBalancedSampler'),
         lr=1e-3, freeze_backbone=True),
]
find_unused_parameters = True  # frozen parameters get no gradient under DDP
"""


@pytest.fixture(scope='module')
def two_stage_config(tmp_path_factory):
    path = tmp_path_factory.mktemp('cfg') / 'digits_lt_two_stage_tiny.py'
    path.write_text(TWO_STAGE.format(
        base=osp.join(REPO_ROOT, 'configs', 'demo', 'digits_lt_stage1.py')))
    return str(path)


def train_args(config, work_dir, data_root, *extra, max_epochs=3, options=()):
    return ['python', osp.join(REPO_ROOT, 'tools', 'train.py'), config, '--work-dir',
            str(work_dir), *extra, '--cfg-options',
            *demo_overrides(data_root, max_epochs=max_epochs), *options]


def load(path):
    return torch.load(path, map_location='cpu', weights_only=False)


def train_lrs(log):
    """{epoch: set of logged lrs} from the training log lines."""
    lrs = {}
    for epoch, lr in re.findall(r'Epoch\(train\)\s+\[(\d+)\]\[\s*\d+/\d+\]\s+lr: (\S+)', log):
        lrs.setdefault(int(epoch), set()).add(float(lr))
    return lrs


def assert_frozen_since(before, after):
    """Backbone weights and BN statistics equal, head trained."""
    keys = [k for k in before['state_dict'] if k.startswith('backbone.')]
    assert any('running_mean' in k for k in keys)
    for key in keys:
        assert torch.equal(before['state_dict'][key], after['state_dict'][key]), key
    assert not torch.equal(before['state_dict']['head.fc.weight'],
                           after['state_dict']['head.fc.weight'])


@pytest.fixture(scope='module')
def killed_and_resumed(two_stage_config, tiny_root, tmp_path_factory):
    """A long two-stage run, killed (SIGKILL) after the switch, then resumed with --resume.

    Returns the work dir, the epoch of the last checkpoint before the kill, and both logs.
    """
    work_dir = tmp_path_factory.mktemp('e2e')
    first_log = work_dir / 'killed_run.txt'
    with open(first_log, 'w') as out:
        proc = subprocess.Popen(
            train_args(two_stage_config, work_dir, tiny_root, max_epochs=30,
                       options=['train_cfg.val_interval=100']),
            cwd=REPO_ROOT, env=tool_env(), stdout=out, stderr=subprocess.STDOUT)
        pointer, deadline = work_dir / 'last_checkpoint', time.time() + 180
        try:
            while time.time() < deadline and proc.poll() is None:
                text = pointer.read_text() if pointer.exists() else ''
                found = re.search(r'epoch_(\d+)\.pth', text)
                if found and int(found.group(1)) >= 2:  # a checkpoint after the switch
                    proc.send_signal(signal.SIGKILL)
                    break
                time.sleep(0.05)
        finally:
            proc.kill()
            proc.wait()
    killed_at = int(re.search(r'epoch_(\d+)\.pth', pointer.read_text()).group(1))
    assert 2 <= killed_at < 30, first_log.read_text()[-6000:]
    resumed = run_tool(train_args(two_stage_config, work_dir, tiny_root, '--resume',
                                  max_epochs=killed_at + 1))
    return str(work_dir), killed_at, first_log.read_text(), resumed.stdout + resumed.stderr


def test_e2e_two_stage_run_shows_the_switch(killed_and_resumed):
    work_dir, killed_at, log, _ = killed_and_resumed
    assert ('StageSwitchHook: epoch 1: switched to stage 2: sampler InstanceBalancedSampler -> '
            'ClassBalancedSampler(class-balanced') in log
    assert 'lr 0.1 -> 0.001' in log and 'froze backbone' in log
    lrs = train_lrs(log)
    assert lrs.pop(1) == {0.1}
    assert set(lrs) >= set(range(2, killed_at + 1))
    assert all(epoch_lrs == {1e-3} for epoch_lrs in lrs.values())
    first = load(osp.join(work_dir, 'epoch_1.pth'))
    last = load(osp.join(work_dir, f'epoch_{killed_at}.pth'))
    assert_frozen_since(first, last)
    assert [g['lr'] for g in last['optimizer']['param_groups']] == [1e-3]
    assert last['meta']['stage_switch'] == dict(switch_epoch=1, applied=True)
    assert first['meta']['stage_switch'] == dict(switch_epoch=1, applied=False)


def test_e2e_kill_and_resume_across_the_switch(killed_and_resumed):
    work_dir, killed_at, _, log = killed_and_resumed
    assert f'resumed epoch: {killed_at}' in log
    assert (f'StageSwitchHook: epoch {killed_at}: restored (resumed after the switch) stage 2: '
            'sampler InstanceBalancedSampler -> ClassBalancedSampler') in log
    assert train_lrs(log) == {killed_at + 1: {1e-3}}
    last = load(osp.join(work_dir, f'epoch_{killed_at + 1}.pth'))
    # frozen since the switch, across the kill
    assert_frozen_since(load(osp.join(work_dir, 'epoch_1.pth')), last)
    assert [g['lr'] for g in last['optimizer']['param_groups']] == [1e-3]


def test_e2e_dist_train_two_cpu_processes(two_stage_config, tiny_root, tmp_path):
    port = free_port()
    args = ['bash', osp.join(REPO_ROOT, 'tools', 'dist_train.sh'), two_stage_config, '2',
            '--work-dir', str(tmp_path), '--cfg-options', *demo_overrides(tiny_root, max_epochs=3)]
    env = dict(tool_env(), PORT=str(port))
    proc = subprocess.run(args, cwd=REPO_ROOT, env=env, capture_output=True, text=True,
                          timeout=300)
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log[-6000:]
    # 28 training images: 14 per rank, 3 full batches of 4 per rank and epoch (drop_last)
    assert 'ClassBalancedSampler(class-balanced, classes=4, samples/epoch=28, per rank=14, ' \
           'world_size=2)' in log
    assert train_lrs(log) == {1: {0.1}, 2: {1e-3}, 3: {1e-3}}
    assert re.search(r'Epoch\(train\) \[2\]\[3/3\]', log)
    assert_frozen_since(load(osp.join(tmp_path, 'epoch_1.pth')),
                        load(osp.join(tmp_path, 'epoch_3.pth')))
    assert sorted(osp.basename(p) for p in glob.glob(osp.join(tmp_path, 'epoch_*.pth'))) == [
        'epoch_1.pth', 'epoch_2.pth', 'epoch_3.pth']
