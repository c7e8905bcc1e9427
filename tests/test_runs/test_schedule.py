"""Epochs and milestones read from a two-stage config (none hard-coded in the demo)."""
import os.path as osp

import pytest
from conftest import REPO_ROOT

from aliprod_plugins.runs import schedule

TWO_STAGE = """
custom_hooks = [dict(type='BadImageHook'), dict(type='StageSwitchHook', switch_epoch=12)]
param_scheduler = [dict(type='LinearLR', end=1),
                   dict(type='MultiStepLR', by_epoch=True, milestones=[6, 9], gamma=0.1)]
train_cfg = dict(max_epochs=16)
"""


def test_epochs_and_milestones_from_a_config(tmp_path):
    path = tmp_path / 'two_stage.py'
    path.write_text(TWO_STAGE)
    assert schedule.stage_epochs(str(path)) == (12, 4)
    assert schedule.milestones(str(path)) == [6, 9]
    assert schedule.scaled_milestones(str(path), 12, 12) == [6, 9]
    assert schedule.scaled_milestones(str(path), 4, 12) == [2, 3]
    assert schedule.scaled_milestones(str(path), 1, 12) == [1, 1]  # never epoch 0


def test_the_demo_configs_milestones():
    config = osp.join(REPO_ROOT, 'configs', 'demo', 'digits_lt_two_stage.py')
    assert schedule.stage_epochs(config) == (30, 10)
    assert schedule.scaled_milestones(config, 30, 30) == [20, 26]
    assert schedule.scaled_milestones(config, 20, 30) == [13, 17]  # bench_methods' README run
    assert schedule.scaled_milestones(config, 2, 30) == [1, 2]  # the short demo test


def test_missing_parts_are_named(tmp_path):
    path = tmp_path / 'one_stage.py'
    path.write_text("custom_hooks = [dict(type='BadImageHook')]\n"
                    "param_scheduler = dict(type='CosineAnnealingLR', T_max=5)\n"
                    "train_cfg = dict(max_epochs=5)\n")
    with pytest.raises(ValueError, match=r"one_stage\.py: expected a StageSwitchHook in "
                       r"custom_hooks, got \['BadImageHook'\]"):
        schedule.stage_epochs(str(path))
    with pytest.raises(ValueError, match="expected a MultiStepLR in param_scheduler, got "
                       r"\['CosineAnnealingLR'\]"):
        schedule.milestones(str(path))
