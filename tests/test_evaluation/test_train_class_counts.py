"""Training class counts come from the dataset's annotation, not from its images or pipeline."""
import shutil

import pytest
from mmengine.config import Config
from mmengine.registry import init_default_scope

from aliprod_plugins.evaluation import train_class_counts
from aliprod_plugins.testing import make_aliproducts_root


def packed_cfg(root: str, **dataset) -> Config:
    # what a packed config holds: a pack folder and a loading transform of whatever name
    # (a fused loader from another plugin is not registered here; nothing may build it)
    return Config(dict(train_dataloader=dict(dataset=dict(
        type='AliProductsDataset', data_root=root, split='train', num_classes=4,
        lmdb='packs/train', pipeline=[dict(type='SomeFusedPackLoader', size=24)], **dataset))))


def test_packed_split_without_images_or_pack_gives_the_capped_counts(tmp_path):
    init_default_scope('mmpretrain')
    root = make_aliproducts_root(str(tmp_path / 'root'), train_counts=[12, 8, 5, 3],
                                 val_counts=[1] * 4, size=(20, 20))
    shutil.rmtree(tmp_path / 'root' / 'train')  # the images are not needed, nor the pack
    cfg = packed_cfg(root, max_per_class=6, cap_seed=0)
    assert train_class_counts(cfg).tolist() == [6, 6, 5, 3]
    assert train_class_counts(cfg, 'class_counts_before_cap').tolist() == [12, 8, 5, 3]


def test_no_training_dataset_is_a_clear_error():
    with pytest.raises(ValueError, match='expect a train_dataloader.dataset'):
        train_class_counts(Config(dict(val_dataloader=dict())))
