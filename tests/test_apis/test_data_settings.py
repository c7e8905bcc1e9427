"""One setting each: data_root and num_classes reach every copy; test follows val's options."""
import os.path as osp

import pytest
from conftest import REPO_ROOT
from mmengine.config import Config

from aliprod_plugins.apis import data_settings

DEMO = osp.join(REPO_ROOT, 'configs', 'demo', 'digits_lt_stage1.py')
LOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')


def test_data_root_and_num_classes_reach_loaders_head_and_preprocessor(tmp_path):
    cfg = Config.fromfile(DEMO)
    data_settings.apply_data_settings(cfg, str(tmp_path), 7)
    for loader in LOADERS:
        assert cfg[loader].dataset.data_root == str(tmp_path)
        assert cfg[loader].dataset.num_classes == 7
    assert cfg.model.head.num_classes == 7 and cfg.data_preprocessor.num_classes == 7
    assert (cfg.data_root, cfg.num_classes) == (str(tmp_path), 7)


def test_top_level_cfg_options_count_as_the_flags(tmp_path):
    cfg = Config.fromfile(DEMO)
    options = {'num_classes': 3, 'data_root': str(tmp_path)}
    cfg.merge_from_dict(options)
    data_settings.apply_data_settings(cfg, options=options)
    assert cfg.test_dataloader.dataset.data_root == str(tmp_path)
    assert cfg.model.head.num_classes == 3


@pytest.mark.parametrize('data_root,num_classes,match', [
    ('missing-folder', None, 'expects an existing folder'),
    (None, 0, 'num_classes expected an int >= 1, got 0'),
])
def test_bad_settings_are_named(tmp_path, data_root, num_classes, match):
    with pytest.raises(ValueError, match=match):
        data_settings.apply_data_settings(
            Config.fromfile(DEMO), data_root and str(tmp_path / data_root), num_classes)


def test_test_loader_follows_val_options_unless_set_apart():
    cfg = Config.fromfile(DEMO)
    options = {'val_dataloader.dataset.data_root': '/data/mine', 'val_dataloader.batch_size': 7}
    cfg.merge_from_dict(data_settings.follow_val(cfg, options))
    assert cfg.test_dataloader.dataset.data_root == '/data/mine'
    assert cfg.test_dataloader.batch_size == 7
    # a test_* option of its own: the user decides the test loader
    cfg = Config.fromfile(DEMO)
    options['test_dataloader.batch_size'] = 3
    cfg.merge_from_dict(data_settings.follow_val(cfg, options))
    assert cfg.test_dataloader.dataset.data_root == 'data/digits_lt'
    # a config whose test loader differs from val is left alone
    cfg = Config.fromfile(DEMO)
    cfg.test_dataloader.dataset.split = 'test'
    assert 'test_dataloader.dataset.data_root' not in data_settings.follow_val(
        cfg, {'val_dataloader.dataset.data_root': '/data/mine'})


def test_relative_data_roots_are_relative_to_the_repository(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # whatever the current directory
    cfg = Config.fromfile(DEMO)
    cfg.val_dataloader.dataset.data_root = '/abs/val'
    data_settings.resolve_data_roots(cfg)
    assert cfg.train_dataloader.dataset.data_root == osp.join(REPO_ROOT, 'data', 'digits_lt')
    assert cfg.data_root == osp.join(REPO_ROOT, 'data', 'digits_lt')
    assert cfg.val_dataloader.dataset.data_root == '/abs/val'


def test_missing_data_root_is_refused_before_anything_is_built(tmp_path):
    cfg = Config.fromfile(DEMO)
    cfg.val_dataloader.dataset.data_root = str(tmp_path / 'nowhere')
    cfg.test_dataloader.dataset.data_root = str(tmp_path)
    data_settings.check_data_roots(cfg, ('test_dataloader', ))  # the test loader is fine
    with pytest.raises(ValueError, match=r"val_dataloader.dataset.data_root expects an "
                       r"existing folder, got '.*nowhere'.*--data-root DIR"):
        data_settings.check_data_roots(cfg, ('test_dataloader', 'val_dataloader'))
