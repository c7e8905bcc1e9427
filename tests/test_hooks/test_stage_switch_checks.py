"""StageSwitchHook off the happy path: the stage-2 sampler checked before the first iteration,
no per-iteration eval(), and a frozen backbone taken out of DDP's reducer."""
import numpy as np
import pytest
import torch
import torch.distributed as dist
from mmengine.runner import Runner
from mmpretrain.registry import DATASETS
from test_stage_switch_hook import ToyLongTailDataset, ToySwitchClassifier, free_port, make_cfg
from torch.nn.parallel import DistributedDataParallel

from aliprod_plugins.hooks import StageSwitchHook


@DATASETS.register_module(force=True)
class ToyValOnlyClassDataset(ToyLongTailDataset):
    """The toy set with a fourth class that has no training sample (only in val)."""

    def __init__(self):
        super().__init__()
        self.metainfo = dict(classes=('00000', '00001', '00002', '00003'))


def test_stage2_sampler_is_checked_before_the_first_iteration(tmp_path):
    hook = dict(type='StageSwitchHook', switch_epoch=2, sampler=dict(type='ClassBalancedSampler'))
    cfg = make_cfg(tmp_path / 'a', hook, max_epochs=3, dataset=dict(type='ToyValOnlyClassDataset'))
    runner = Runner.from_cfg(cfg)
    iters = []
    runner.register_hook(type('Count', (StageSwitchHook.__base__, ), dict(
        before_train_iter=lambda self, r, batch_idx, data_batch=None: iters.append(1)))())
    with pytest.raises(ValueError, match=r'custom_hooks\.0\.sampler\.skip_empty_classes=True') \
            as err:
        runner.train()
    assert '1 class(es) without samples' in str(err.value) and not iters  # not after stage 1
    # the setting it names: draw only among the classes with images, and the run goes through
    hook['sampler']['skip_empty_classes'] = True
    runner = Runner.from_cfg(make_cfg(tmp_path / 'b', hook, max_epochs=3,
                                      dataset=dict(type='ToyValOnlyClassDataset')))
    runner.train()
    sampler = runner.train_loop.dataloader.sampler
    np.testing.assert_allclose(sampler.class_probs(2), [1 / 3, 1 / 3, 1 / 3, 0])


def test_frozen_parts_are_not_put_in_eval_mode_every_iteration():
    model = ToySwitchClassifier()
    hook = StageSwitchHook(0, sampler=None, freeze_backbone=True)
    runner = type('R', (), dict(model=model))()
    hook._freeze(runner, model)
    calls = []
    for module in hook._frozen:
        module.eval = (lambda m: lambda: (calls.append(m), m.train(False))[1])(module)
    for i in range(3):
        hook.before_train_iter(runner, i)
    assert calls == []  # already in eval mode: nothing to do
    model.train()  # what the loop does at every epoch start
    for i in range(3):
        hook.before_train_iter(runner, i)
    assert calls == hook._frozen and not model.backbone.training and not model.neck.training


def _allreduced_bytes(wrapper, steps=2):
    sizes = []

    def count(state, bucket):
        sizes.append(bucket.buffer().numel() * bucket.buffer().element_size())
        fut = torch.futures.Future()
        fut.set_result(bucket.buffer())
        return fut

    wrapper.register_comm_hook(None, count)
    x, y = torch.randn(8, 4), torch.randint(0, 3, (8, ))
    for _ in range(steps):
        wrapper(x, y, mode='loss')['loss'].backward()
    return sum(sizes) // steps


def test_freezing_under_ddp_rebuilds_the_wrapper_without_the_frozen_parameters(monkeypatch):
    monkeypatch.setenv('MASTER_ADDR', '127.0.0.1')
    monkeypatch.setenv('MASTER_PORT', str(free_port()))
    dist.init_process_group('gloo', rank=0, world_size=1)
    try:
        torch.manual_seed(0)
        model = ToySwitchClassifier()
        head_bytes = sum(p.numel() * 4 for p in model.head.parameters())
        before = _allreduced_bytes(DistributedDataParallel(model))
        assert before == sum(p.numel() * 4 for p in model.parameters())
        runner = type('R', (), dict(model=DistributedDataParallel(model)))()
        message = StageSwitchHook(0, sampler=None, freeze_backbone=True)._freeze(runner, model)
        assert 'DDP wrapper rebuilt' in message and runner.model.module is model
        # find_unused_parameters=False and no error: DDP no longer waits for the frozen ones
        assert not runner.model.find_unused_parameters
        assert _allreduced_bytes(runner.model) == head_bytes
    finally:
        dist.destroy_process_group()


def test_train_tool_refuses_the_stage2_sampler_before_stage1(tiny_root, tmp_path):
    """The README's walkthrough, shrunk: a fifth class without training images (only its id)
    and a class-balanced stage 2 after epoch 1 fail at start-up, naming the setting."""
    import os.path as osp
    import sys

    from conftest import REPO_ROOT, demo_overrides, run_tool
    config = osp.join(REPO_ROOT, 'configs', 'demo', 'digits_lt_two_stage.py')
    proc = run_tool([sys.executable, osp.join(REPO_ROOT, 'tools', 'train.py'), config,
                     '--work-dir', str(tmp_path), '--cfg-options',
                     *demo_overrides(tiny_root, num_classes=5, max_epochs=2),
                     'custom_hooks.0.switch_epoch=1'], check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0 and 'Epoch(train)' not in out
    assert '--cfg-options custom_hooks.0.sampler.skip_empty_classes=True' in out
