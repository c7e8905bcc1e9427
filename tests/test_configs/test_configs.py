"""Every config loads and builds its model, datasets and evaluators; ResNeSt-50 trains a step."""
import glob
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmpretrain.registry import DATASETS, METRICS, MODELS

import aliprod_plugins  # noqa: F401
from conftest import REPO_ROOT

# every leaf config (the _base_ files are covered through them)
CONFIGS = sorted(glob.glob(osp.join(REPO_ROOT, 'configs', 'aliprod', '*.py')) +
                 glob.glob(osp.join(REPO_ROOT, 'configs', 'demo', '*.py')))


def test_configs_exist():
    names = {osp.relpath(p, osp.join(REPO_ROOT, 'configs')) for p in CONFIGS}
    for required in ('aliprod/resnest50_stage1.py', 'aliprod/resnest50_stage2.py',
                     'aliprod/resnest50_two_stage.py', 'demo/digits_lt_stage1.py',
                     'demo/digits_lt_two_stage.py', 'demo/digits_lt_stage2.py'):
        assert required in names


@pytest.mark.parametrize('path', CONFIGS, ids=lambda p: osp.relpath(p, REPO_ROOT))
def test_config_builds(path, tiny_root):
    cfg = Config.fromfile(path)
    assert cfg.default_scope == 'mmpretrain'
    assert cfg.custom_imports['imports'] == ['aliprod_plugins']
    hooks = {h['type'] for h in cfg.custom_hooks}
    assert {'BadImageHook', 'TrainCountsHook'} <= hooks, hooks
    init_default_scope('mmpretrain')
    model = MODELS.build(cfg.model)
    assert model.head.num_classes == cfg.data_preprocessor.num_classes
    for split in ('train', 'val', 'test'):
        ds_cfg = cfg[f'{split}_dataloader'].dataset.copy()
        ds_cfg.update(data_root=tiny_root, num_classes=4)
        # *_lmdb configs read packs of the real data; tests/test_tools/test_lmdb_configs.py
        # packs a generated root with them and builds their datasets from the packs
        ds_cfg.pop('lmdb', None)
        dataset = DATASETS.build(ds_cfg)
        assert type(dataset).__name__ == 'AliProductsDataset'
        assert len(dataset) > 0
        sample = dataset[0]
        assert sample['inputs'].shape[0] == 3
    for evaluator in (cfg.val_evaluator, cfg.test_evaluator):
        metrics = evaluator if isinstance(evaluator, list) else [evaluator]
        for m in metrics:
            assert METRICS.build(m).default_prefix == 'longtail'


def test_recipe_settings():
    cfg = Config.fromfile(osp.join(REPO_ROOT, 'configs', 'aliprod', 'resnest50_stage1.py'))
    assert cfg.model.backbone.type == 'ResNeSt' and cfg.model.backbone.depth == 50
    assert cfg.model.head.num_classes == 50030 and cfg.model.head.in_channels == 2048
    assert cfg.train_dataloader.batch_size == 64
    assert cfg.train_dataloader.dataset.max_per_class == 250
    assert cfg.train_dataloader.sampler.type == 'InstanceBalancedSampler'
    opt = cfg.optim_wrapper.optimizer
    assert (opt.type, opt.lr, opt.momentum, opt.weight_decay) == ('SGD', 0.5, 0.9, 1e-4)
    assert cfg.param_scheduler.milestones == [10, 20, 30]
    assert cfg.auto_scale_lr.base_batch_size == 512
    two = Config.fromfile(osp.join(REPO_ROOT, 'configs', 'aliprod', 'resnest50_two_stage.py'))
    switch = [h for h in two.custom_hooks if h.type == 'StageSwitchHook'][0]
    assert switch.switch_epoch == 40 and switch.lr == 1e-4
    assert switch.sampler.type == 'ClassBalancedSampler'
    stage2 = Config.fromfile(osp.join(REPO_ROOT, 'configs', 'aliprod', 'resnest50_stage2.py'))
    assert stage2.train_dataloader.sampler.type == 'ClassBalancedSampler'
    assert stage2.optim_wrapper.optimizer.lr == 1e-4
    assert stage2.param_scheduler.type == 'ConstantLR'


def test_resnest50_full_head_forward_backward():
    cfg = Config.fromfile(osp.join(REPO_ROOT, 'configs', 'aliprod', 'resnest50_stage1.py'))
    init_default_scope('mmpretrain')
    model = MODELS.build(cfg.model)
    model.init_weights()
    x = torch.randn(2, 3, 112, 112)
    logits = model(x, mode='tensor')
    assert logits.shape == (2, 50030)
    loss = torch.nn.functional.cross_entropy(logits, torch.tensor([0, 50029]))
    loss.backward()
    assert model.head.fc.weight.grad.shape == (50030, 2048)
    first_conv = next(p for n, p in model.backbone.named_parameters() if 'conv' in n)
    assert first_conv.grad is not None and torch.isfinite(first_conv.grad).all()


@pytest.mark.parametrize('path', CONFIGS, ids=lambda p: osp.relpath(p, REPO_ROOT))
def test_long_run_safety_settings(path):
    cfg = Config.fromfile(path)
    # a training batch of one crashes BatchNorm: drop the incomplete last batch in training only
    assert cfg.train_dataloader.drop_last is True
    for split in ('val_dataloader', 'test_dataloader'):
        assert not cfg[split].get('drop_last', False)
    assert cfg.default_hooks.checkpoint.type == 'AtomicCheckpointHook'
    assert cfg.optim_wrapper.type in ('FiniteOptimWrapper', 'FiniteAmpOptimWrapper')
    if 'amp-bf16' in path:
        assert cfg.optim_wrapper.type == 'FiniteAmpOptimWrapper'
        assert cfg.optim_wrapper.dtype == 'bfloat16'
    if 'stage2' in osp.basename(path):  # the last checkpoint of a stage-1 run
        assert cfg.load_from in ('work_dirs/resnest50_stage1/epoch_40.pth',
                                 'work_dirs/digits_lt_stage1/epoch_30.pth',
                                 # weight balancing: its own stage 1 (another weight decay)
                                 'work_dirs/resnest50_wb_stage1/epoch_40.pth',
                                 'work_dirs/digits_lt_wb_stage1/epoch_30.pth',
                                 'work_dirs/glyphs_lt_wb_stage1/epoch_12.pth')


def _hook(cfg, hook_type):
    hooks = [h for h in cfg.custom_hooks if h['type'] == hook_type]
    assert len(hooks) == 1, (hook_type, cfg.custom_hooks)
    return hooks[0]


@pytest.mark.parametrize('name,switch', [
    ('aliprod/resnest50_two_stage.py', dict(switch_epoch=40, lr=1e-4)),
    ('aliprod/resnest50_stage2_crt.py', dict(switch_epoch=0, reinit_head=True)),
    ('demo/digits_lt_two_stage.py', dict(switch_epoch=30, lr=1e-3)),
])
def test_stage_switch_options_of_the_two_stage_and_crt_configs(name, switch):
    """The options the README table promises, as the hook is built from the config."""
    from mmpretrain.registry import HOOKS

    from aliprod_plugins.hooks import StageSwitchHook
    cfg = Config.fromfile(osp.join(REPO_ROOT, 'configs', name))
    hook_cfg = _hook(cfg, 'StageSwitchHook')
    sampler = hook_cfg['sampler'] or cfg.train_dataloader.sampler  # cRT: the config's own
    assert sampler['type'] == 'ClassBalancedSampler'
    init_default_scope('mmpretrain')
    hook = HOOKS.build(hook_cfg)
    assert isinstance(hook, StageSwitchHook)
    expected = dict(dict(lr=None, lr_mult=None, freeze_backbone=False, reinit_head=False),
                    **switch)
    assert {k: getattr(hook, k) for k in expected} == expected
    assert hook.switch_epoch < cfg.train_cfg.max_epochs
    # cRT freezes at build time (backbone frozen_stages): nothing for DDP to wait for
    assert not cfg.get('find_unused_parameters', False) and not hook.freeze_backbone


def test_crt_config_starts_from_stage1_at_the_stage2_lr():
    cfg = Config.fromfile(osp.join(REPO_ROOT, 'configs', 'aliprod', 'resnest50_stage2_crt.py'))
    assert cfg.load_from == 'work_dirs/resnest50_stage1/epoch_40.pth'
    assert cfg.optim_wrapper.optimizer.lr == 1e-4
    assert cfg.train_dataloader.sampler.type == 'ClassBalancedSampler'
    assert cfg.train_cfg.max_epochs == 10


def test_bf16_config_trains_in_bfloat16_with_an_amp_wrapper():
    from mmengine.optim import AmpOptimWrapper
    from mmpretrain.registry import OPTIM_WRAPPERS
    cfg = Config.fromfile(osp.join(REPO_ROOT, 'configs', 'aliprod',
                                   'resnest50_stage1_amp-bf16.py'))
    wrapper = OPTIM_WRAPPERS.get(cfg.optim_wrapper.type)
    assert issubclass(wrapper, AmpOptimWrapper), cfg.optim_wrapper.type
    assert cfg.optim_wrapper.dtype == 'bfloat16'
    # bf16 needs no loss scaling; everything else is stage 1's
    assert cfg.optim_wrapper.get('loss_scale') in (None, 'dynamic')
    stage1 = Config.fromfile(osp.join(REPO_ROOT, 'configs', 'aliprod', 'resnest50_stage1.py'))
    assert cfg.optim_wrapper.optimizer == stage1.optim_wrapper.optimizer
    assert cfg.train_cfg == stage1.train_cfg and cfg.param_scheduler == stage1.param_scheduler
