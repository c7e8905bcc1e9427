"""The method configs of the methods issue: what each one sets, and their test pipelines."""
import os
import os.path as osp

import pytest
from conftest import REPO_ROOT
from mmengine.config import Config
from mmengine.dataset import Compose
from mmengine.registry import init_default_scope
from mmpretrain.registry import MODELS

import aliprod_plugins  # noqa: F401


def _cfg(name):
    return Config.fromfile(osp.join(REPO_ROOT, 'configs', name))


def _hooks(cfg):
    return {h['type']: h for h in cfg.custom_hooks}


@pytest.mark.parametrize('name', ['aliprod/resnest50_balanced_softmax.py',
                                  'demo/digits_lt_balanced_softmax.py'])
def test_balanced_softmax_is_one_instance_balanced_stage(name):
    cfg = _cfg(name)
    assert cfg.model.head.loss == dict(type='BalancedSoftmaxLoss', tau=1.0)
    assert 'ClassPriorHook' in _hooks(cfg) and 'StageSwitchHook' not in _hooks(cfg)
    assert cfg.train_dataloader.sampler.type == 'InstanceBalancedSampler'
    stage1 = _cfg(name.replace('balanced_softmax', 'stage1'))
    assert cfg.param_scheduler == stage1.param_scheduler
    assert cfg.train_cfg.max_epochs == stage1.train_cfg.max_epochs
    assert (cfg.train_dataloader.dataset.max_per_class
            == stage1.train_dataloader.dataset.max_per_class)


@pytest.mark.parametrize('name', ['aliprod/resnest50_stage2_lws.py',
                                  'demo/digits_lt_stage2_lws.py'])
def test_lws_freezes_backbone_keeps_classifier_and_samples_class_balanced(name):
    cfg = _cfg(name)
    assert cfg.model.head.type == 'LWSHead'
    assert 'StageSwitchHook' not in _hooks(cfg)  # frozen at build time (test_frozen_configs)
    assert cfg.train_dataloader.sampler.type == 'ClassBalancedSampler'
    assert cfg.optim_wrapper.paramwise_cfg.custom_keys['head.scales'] == dict(decay_mult=0.0)
    assert cfg.load_from  # a stage-1 checkpoint
    init_default_scope('mmpretrain')
    head = MODELS.build(dict(cfg.model.head, num_classes=10))  # 50,030 rows: slow, same head
    assert [n for n, p in head.named_parameters() if p.requires_grad] == ['scales']


@pytest.mark.parametrize('name,train,resize,crop', [
    ('aliprod/resnest50_stage2_160px.py', 160, 182, 160),
    ('demo/digits_lt_stage2_32px.py', 32, 32, 32)])
def test_resolution_fine_tune_pipelines(name, train, resize, crop, tiny_root):
    cfg = _cfg(name)
    stage2 = _cfg(name.replace('_160px', '').replace('_32px', ''))
    assert cfg.train_dataloader.sampler.type == 'ClassBalancedSampler'
    assert cfg.optim_wrapper.optimizer.lr == stage2.optim_wrapper.optimizer.lr
    rrc = [t for t in cfg.train_dataloader.dataset.pipeline if t.type == 'RandomResizedCrop']
    assert rrc[0].scale == train
    init_default_scope('mmpretrain')
    for split in ('val', 'test'):
        pipeline = cfg[f'{split}_dataloader'].dataset.pipeline
        assert [t.get('scale', t.get('crop_size')) for t in pipeline[1:3]] == [resize, crop]
    folder = osp.join(tiny_root, 'val', '00000')
    path = osp.join(folder, sorted(os.listdir(folder))[0])
    for pipeline, side in ((cfg.test_dataloader.dataset.pipeline, crop),
                           (cfg.train_dataloader.dataset.pipeline, train)):
        out = Compose(pipeline)(dict(img_path=path, gt_label=0))
        assert tuple(out['inputs'].shape) == (3, side, side)


@pytest.mark.parametrize('name', ['aliprod/resnest50_stage2_lws.py',
                                  'aliprod/resnest50_stage2_crt.py',
                                  'demo/digits_lt_stage2_lws.py', 'demo/digits_lt_stage2_crt.py',
                                  'aliprod/resnest50_wb_stage2.py', 'demo/glyphs_lt_wb_stage2.py',
                                  'demo/digits_lt_wb_stage2.py'])
def test_frozen_configs_freeze_the_backbone_when_it_is_built(name):
    """DDP registers what requires grad when it is built: only the head may be trainable."""
    import torch
    cfg = _cfg(name)
    assert not cfg.get('find_unused_parameters', False)
    init_default_scope('mmpretrain')
    model = MODELS.build(dict(cfg.model, head=dict(cfg.model.head, num_classes=10)))
    trainable = [n for n, p in model.named_parameters() if p.requires_grad]
    assert trainable and all(n.startswith('head.') for n in trainable), trainable
    model.train()  # what the train loop does every epoch: BatchNorm statistics stay frozen
    bns = [m for m in model.backbone.modules()
           if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    assert bns and not any(m.training for m in bns)
