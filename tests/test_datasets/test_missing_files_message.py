"""The missing-image message says which count it gives: files kept after capping vs listed."""
import os
import os.path as osp
import re

import pytest

from aliprod_plugins.datasets import AliProductsDataset
from aliprod_plugins.testing import make_aliproducts_root


@pytest.fixture
def root(tmp_path):
    # 10 + 4 + 5 = 19 training images listed
    return make_aliproducts_root(str(tmp_path / 'root'), train_counts=[10, 4, 5], size=(8, 8))


def kept_paths(root, **kwargs):
    ds = AliProductsDataset(data_root=root, num_classes=3, check_files='off', **kwargs)
    return [ds.get_data_info(i)['img_path'] for i in range(len(ds))]


def test_capped_counts_say_kept_after_capping_and_listed(root):
    kept = kept_paths(root, max_per_class=3)  # 3 + 3 + 3 = 9 kept
    assert len(kept) == 9
    os.remove(kept[4])
    ann = osp.join(root, 'train.json')
    with pytest.raises(FileNotFoundError) as info:
        AliProductsDataset(data_root=root, num_classes=3, max_per_class=3)
    message = str(info.value)
    assert message.startswith(f'1 of 9 image files kept after capping (19 listed in {ann}) do '
                              f'not exist under {osp.join(root, "train")!r}; the first ones:\n'
                              f'  {kept[4]}\n')


def test_capping_and_indices_are_both_named(root):
    kept = kept_paths(root, max_per_class=3, indices=5)
    os.remove(kept[0])
    with pytest.raises(FileNotFoundError, match=re.escape(
            '1 of 5 image files kept after capping and `indices` (19 listed in')):
        AliProductsDataset(data_root=root, num_classes=3, max_per_class=3, indices=5)


def test_uncapped_counts_say_listed(root):
    kept = kept_paths(root)
    os.remove(kept[-1])
    with pytest.raises(FileNotFoundError, match=re.escape(
            f'1 of 19 image files listed in {osp.join(root, "train.json")} do not exist')):
        AliProductsDataset(data_root=root, num_classes=3)
    # a cap above every class keeps all 19: nothing to explain
    with pytest.raises(FileNotFoundError, match=re.escape('1 of 19 image files listed in')):
        AliProductsDataset(data_root=root, num_classes=3, max_per_class=50)
