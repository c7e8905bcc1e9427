"""Weight-balancing and NCM configs: what the method needs, on all three datasets."""
import os.path as osp

import pytest
from conftest import REPO_ROOT
from mmengine.config import Config

WB2 = ['aliprod/resnest50_wb_stage2.py', 'demo/glyphs_lt_wb_stage2.py',
       'demo/digits_lt_wb_stage2.py']


@pytest.mark.parametrize('name', WB2)
def test_wb_stage2_fine_tunes_the_kept_classifier_with_maxnorm_and_balanced_sampling(name):
    cfg = Config.fromfile(osp.join(REPO_ROOT, 'configs', name))
    hooks = {h['type']: h for h in cfg.custom_hooks}
    # frozen when built (test_frozen_configs_freeze_the_backbone_when_it_is_built), head kept
    assert 'StageSwitchHook' not in hooks and not cfg.get('load_from_skip')
    assert cfg.model.backbone.frozen_stages == 4 and cfg.model.backbone.norm_eval
    assert hooks['MaxNormHook']['mode'] == 'relative'
    assert cfg.train_dataloader.sampler.type == 'ClassBalancedSampler'
    assert 'wb_stage1' in cfg.load_from  # its own stage 1, with the chosen weight decay


@pytest.mark.parametrize('name', ['demo/glyphs_lt_ncm.py', 'demo/digits_lt_ncm.py'])
def test_ncm_configs_swap_only_the_head_type(name):
    cfg = Config.fromfile(osp.join(REPO_ROOT, 'configs', name))
    assert cfg.model.head.type == 'NCMHead'
