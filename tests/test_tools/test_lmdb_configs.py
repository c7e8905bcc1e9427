"""configs/aliprod/*_lmdb.py: packing with their defaults, then their datasets read the packs."""
import os.path as osp
import shutil

from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmpretrain.registry import DATASETS
from pack_testing import demo_options, load_tool, make_photo_root

from aliprod_plugins.fileio import read_meta
from conftest import REPO_ROOT

CONFIGS = [osp.join(REPO_ROOT, 'configs', 'aliprod', name)
           for name in ('resnest50_stage1_lmdb.py', 'resnest50_two_stage_lmdb.py')]


def test_lmdb_configs_pack_by_default_into_their_lmdb_folders_and_train_from_them(tmp_path):
    init_default_scope('mmpretrain')
    root = make_photo_root(tmp_path / 'root', train_counts=[4, 2, 1])
    options = demo_options(root, 3)
    tool = load_tool()
    for split in ('train', 'val'):  # no --out: the config's lmdb option under data_root
        tool.main([CONFIGS[0], '--split', split, '--workers', '1', '--cfg-options', *options])
        shutil.rmtree(osp.join(root, split))
    # the short side follows the split's LoadImageScaled(min_size): 160 -> 176, 128 -> 144
    assert read_meta(osp.join(root, 'packs', 'train'))['encoding']['short_side'] == 176
    assert read_meta(osp.join(root, 'packs', 'val'))['encoding']['short_side'] == 144
    assert read_meta(osp.join(root, 'packs', 'train'))['dataset']['max_per_class'] == 250
    for path in CONFIGS:  # the same packs serve both configs
        cfg = Config.fromfile(path)
        assert cfg.env_cfg.cudnn_benchmark is True
        cfg.merge_from_dict(dict(a.split('=', 1) for a in options))
        for split in ('train', 'val', 'test'):
            ds_cfg = cfg[f'{split}_dataloader'].dataset
            ds_cfg.num_classes = int(ds_cfg.num_classes)
            dataset = DATASETS.build(ds_cfg)
            assert dataset.lmdb == ('packs/train' if split == 'train' else 'packs/val')
            assert dataset[0]['inputs'].shape == (3, 112, 112)
