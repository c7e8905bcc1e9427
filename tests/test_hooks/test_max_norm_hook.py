"""MaxNormHook: the projection (norms capped, directions kept, rows under the threshold and the
bias untouched) and its relative threshold."""
import os.path as osp
import sys
from types import SimpleNamespace

import pytest
import torch
from torch import nn

from aliprod_plugins.engine import safe_load
from aliprod_plugins.hooks import MaxNormHook
from aliprod_plugins.hooks.max_norm_hook import project_rows_


def rows_with_norms(norms, dim=5, seed=0):
    w = torch.randn(len(norms), dim, generator=torch.Generator().manual_seed(seed))
    return w / w.norm(dim=1, keepdim=True) * torch.tensor(norms)[:, None]


def test_projection_caps_norms_keeps_directions_and_leaves_short_rows_alone():
    w = rows_with_norms([0.5, 2.0, 3.0, 1.0, 0.0])
    before = w.clone()
    project_rows_(w, 1.0)
    torch.testing.assert_close(w.norm(dim=1), torch.tensor([0.5, 1.0, 1.0, 1.0, 0.0]))
    # directions of the capped rows are kept
    torch.testing.assert_close(w[1:3] / w[1:3].norm(dim=1, keepdim=True),
                               before[1:3] / before[1:3].norm(dim=1, keepdim=True))
    # rows at or under the threshold (and the zero row) are bit-identical
    for i in (0, 3, 4):
        assert torch.equal(w[i], before[i])


def test_hook_projects_the_weight_not_the_bias_with_the_relative_threshold():
    model = nn.Module()
    model.head = nn.Module()
    model.head.fc = nn.Linear(5, 3)
    with torch.no_grad():
        model.head.fc.weight.copy_(rows_with_norms([1.0, 3.0, 5.0]))
        model.head.fc.bias.copy_(torch.tensor([10.0, -20.0, 30.0]))
    runner = SimpleNamespace(model=model, iter=0)
    hook = MaxNormHook(thresh=0.5, mode='relative')  # 1 + 0.5 * (5 - 1) = 3
    hook.before_train(runner)
    torch.testing.assert_close(model.head.fc.weight.norm(dim=1), torch.tensor([1.0, 3.0, 3.0]))
    with torch.no_grad():  # an optimizer step grows a row
        model.head.fc.weight[0] *= 7
    hook.after_train_iter(runner, 0)
    torch.testing.assert_close(model.head.fc.weight.norm(dim=1), torch.tensor([3.0, 3.0, 3.0]))
    assert torch.equal(model.head.fc.bias, torch.tensor([10.0, -20.0, 30.0]))
    ckpt = {}
    hook.before_save_checkpoint(runner, ckpt)
    assert ckpt['meta']['max_norm_thresh'] == pytest.approx(3.0)


def test_resume_keeps_the_radius_and_bad_options_are_refused():
    model = nn.Module()
    model.head = nn.Module()
    model.head.fc = nn.Linear(4, 2)
    with torch.no_grad():
        model.head.fc.weight.copy_(rows_with_norms([4.0, 8.0], dim=4))
    hook = MaxNormHook(thresh=0.5)
    hook.after_load_checkpoint(None, {'meta': {'max_norm_thresh': 2.0}})
    hook.before_train(SimpleNamespace(model=model, iter=10))  # resumed: radius 2, not 6
    torch.testing.assert_close(model.head.fc.weight.norm(dim=1), torch.tensor([2.0, 2.0]))
    with pytest.raises(ValueError, match='mode must be one of'):
        MaxNormHook(mode='rel')
    with pytest.raises(ValueError, match=r"MaxNormHook\(mode='relative'\): thresh expected a "
                       r"number in \[0, 1\], got 2.0"):
        MaxNormHook(thresh=2.0, mode='relative')
    with pytest.raises(ValueError, match="no parameter 'head.weight'"):
        MaxNormHook(param='head.weight').before_train(SimpleNamespace(model=model, iter=0))


def test_hook_in_a_training_run_keeps_the_row_in_the_ball(tmp_path):
    sys.path.insert(0, osp.join(osp.dirname(osp.dirname(osp.abspath(__file__))), 'test_engine'))
    from toy_runner import toy_runner

    # the least-squares solution has norm 1.58: training pushes the row outwards
    runner = toy_runner(str(tmp_path), max_epochs=2, name='maxnorm', custom_hooks=[
        dict(type='MaxNormHook', thresh=0.3, mode='absolute', param='linear.weight')])
    runner.train()
    assert float(runner.model.linear.weight.detach().norm()) == pytest.approx(0.3, rel=1e-5)
    saved = safe_load(str(tmp_path / 'epoch_2.pth'))
    assert saved['meta']['max_norm_thresh'] == pytest.approx(0.3)


def test_weight_balancing_stage2_hooks_together(tmp_path):
    """The stage-2 config's hooks: frozen backbone, class-balanced sampling, kept classifier,
    MaxNorm; every row ends within the radius fixed at the start."""
    from mmengine.hooks import Hook
    from mmengine.runner import Runner
    from test_stage_switch_hook import make_cfg

    cfg = make_cfg(tmp_path, dict(type='StageSwitchHook', switch_epoch=0,
                                  sampler=dict(type='ClassBalancedSampler'),
                                  freeze_backbone=True, reinit_head=False), max_epochs=2)
    cfg.custom_hooks.append(dict(type='MaxNormHook', thresh=0.1, mode='relative'))
    cfg.optim_wrapper.optimizer.update(lr=1.0, weight_decay=0.0)  # rows grow
    runner = Runner.from_cfg(cfg)
    start = {}

    class Probe(Hook):
        priority = 'VERY_HIGH'  # before MaxNormHook.before_train, after the weights' init

        def before_train(self, runner):
            start['norms'] = runner.model.head.fc.weight.detach().norm(dim=1)

    runner.register_hook(Probe())
    runner.train()
    radius = float(start['norms'].min() + 0.1 * (start['norms'].max() - start['norms'].min()))
    saved = safe_load(str(tmp_path / 'epoch_2.pth'))
    assert saved['meta']['max_norm_thresh'] == pytest.approx(radius, rel=1e-5)
    norms = saved['state_dict']['head.fc.weight'].norm(dim=1)
    assert float(norms.max()) <= radius * (1 + 1e-5)
