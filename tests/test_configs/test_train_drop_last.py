"""ResNeSt-50 (the recipe's model) trains through an epoch that would end in a batch of one.

A training batch of one sample crashes ResNeSt's split-attention BatchNorm, which normalises
1x1 maps ("Expected more than 1 value per channel when training"); the train dataloaders drop
the incomplete last batch. 8 images at batch 7 leave exactly one sample over.
"""
import os.path as osp

import pytest
import torch
from conftest import REPO_ROOT, demo_overrides
from mmengine.config import Config, DictAction
from mmengine.runner import Runner

import aliprod_plugins  # noqa: F401

CONFIG = osp.join(REPO_ROOT, 'configs', 'aliprod', 'resnest50_stage1.py')


@pytest.fixture
def one_thread():
    # one iteration of tiny images: thread start-up and spinning would cost more than it saves
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_resnest50_trains_through_an_epoch_that_leaves_one_sample(tiny_root, tmp_path,
                                                                  one_thread):
    cfg = Config.fromfile(CONFIG)
    opts = {}
    for opt in demo_overrides(tiny_root, max_epochs=1):
        key, value = opt.split('=', 1)
        opts[key] = DictAction._parse_iterable(value)  # as --cfg-options parses it
    opts.update({
        'train_dataloader.batch_size': 7,
        'train_dataloader.dataset.max_per_class': 2,  # 4 classes x 2 = 8 images
        'train_dataloader.pin_memory': False,
        'train_dataloader.dataset.pipeline.1.scale': 32,  # 1x1 maps in the last stage
    })
    cfg.merge_from_dict(opts)
    cfg.work_dir = str(tmp_path)
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    cfg.default_hooks.checkpoint = None
    cfg.experiment_name = 'drop_last_resnest'
    cfg.log_level = 'WARNING'
    runner = Runner.from_cfg(cfg)
    assert len(runner.train_dataloader.dataset) == 8
    assert len(runner.train_dataloader) == 1  # 8 // 7; the lone 8th sample is dropped
    runner.train()
    assert runner.iter == 1 and runner.epoch == 1
