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
