"""AliProductsDataset on the released layout: labels, paths, splits, metainfo, pipeline."""
import os.path as osp
import pickle

import numpy as np
import pytest
from dataset_testing import layout_root_fixture  # noqa: F401
from dataset_testing import NUM_TEST, TRAIN_COUNTS, VAL_COUNTS, read_entries
from mmengine.dataset import DefaultSampler, pseudo_collate
from mmpretrain.registry import DATASETS
from torch.utils.data import DataLoader

from aliprod_plugins.datasets import AliProductsDataset

NUM_CLASSES = len(TRAIN_COUNTS)


@pytest.mark.parametrize('split,counts', [('train', TRAIN_COUNTS), ('val', VAL_COUNTS)])
def test_labels_paths_and_counts_follow_the_annotation(layout_root, split, counts):
    ds = AliProductsDataset(data_root=layout_root, split=split, num_classes=NUM_CLASSES)
    entries = read_entries(layout_root, split)
    assert len(ds) == len(entries) == sum(counts)
    labels = ds.get_gt_labels()
    assert labels.dtype == np.int64
    np.testing.assert_array_equal(labels, [int(e['class_id']) for e in entries])
    for i, e in enumerate(entries):
        info = ds.get_data_info(i)
        assert info == dict(
            img_path=osp.join(layout_root, split, e['class_id'], e['image_id']),
            gt_label=int(e['class_id']),
            sample_idx=i)
        assert osp.isfile(info['img_path'])
        assert ds.get_cat_ids(i) == [int(e['class_id'])]
    assert ds.get_data_info(-1)['sample_idx'] == len(ds) - 1
    # classes absent from the split keep their id and a zero count
    np.testing.assert_array_equal(ds.class_counts, counts)
    np.testing.assert_array_equal(ds.class_counts_before_cap, counts)
    assert ds.class_counts.dtype == np.int64 and ds.has_labels
    assert ds.metainfo['classes'] == tuple(f'{c:05d}' for c in range(NUM_CLASSES))
    with pytest.raises(IndexError, match='out of range'):
        ds.get_data_info(len(ds))


def test_labels_are_one_shared_read_only_array(layout_root):
    ds = AliProductsDataset(data_root=layout_root, num_classes=NUM_CLASSES)
    assert ds.get_gt_labels() is ds.get_gt_labels()
    with pytest.raises(ValueError, match='read-only'):
        ds.get_gt_labels()[0] = 3


def test_test_split_has_no_labels(layout_root):
    ds = AliProductsDataset(
        data_root=layout_root, split='test', num_classes=NUM_CLASSES, test_mode=True)
    entries = read_entries(layout_root, 'test')
    assert len(ds) == NUM_TEST and not ds.has_labels
    np.testing.assert_array_equal(ds.get_gt_labels(), [-1] * NUM_TEST)
    for i, e in enumerate(entries):
        info = ds.get_data_info(i)
        assert info == dict(img_path=osp.join(layout_root, 'test', e['image_id']), sample_idx=i)
        assert osp.isfile(info['img_path'])
    assert ds.get_cat_ids(0) == []
    assert not ds.class_counts.any()


def test_built_from_the_registry_with_the_stock_pipeline(layout_root):
    ds = DATASETS.build(
        dict(
            type='AliProductsDataset',
            data_root=layout_root,
            split='val',
            num_classes=NUM_CLASSES,
            pipeline=[dict(type='LoadImageFromFile'),
                      dict(type='PackInputs')]))
    loader = DataLoader(
        ds, batch_size=2, collate_fn=pseudo_collate, sampler=DefaultSampler(ds, shuffle=False))
    batch = next(iter(loader))
    assert tuple(batch['inputs'][0].shape) == (3, 8, 8)
    assert [int(s.gt_label) for s in batch['data_samples']] == list(ds.get_gt_labels()[:2])
    assert batch['data_samples'][1].img_path == ds.get_data_info(1)['img_path']
    assert 'Per-class counts' in repr(ds) and 'Split: \tval' in repr(ds)


def test_explicit_ann_file_and_prefix(layout_root, tmp_path):
    ds = AliProductsDataset(
        ann_file=osp.join(layout_root, 'val.json'),
        data_prefix=dict(img_path=osp.join(layout_root, 'val')),
        num_classes=NUM_CLASSES,
        split='val')
    ref = AliProductsDataset(data_root=layout_root, split='val', num_classes=NUM_CLASSES)
    assert [ds.get_data_info(i) for i in range(len(ds))] == \
        [ref.get_data_info(i) for i in range(len(ref))]


def test_lazy_init_pickle_and_subsets(layout_root):
    ds = AliProductsDataset(data_root=layout_root, num_classes=NUM_CLASSES, lazy_init=True)
    assert not ds._fully_initialized
    assert len(ds) == sum(TRAIN_COUNTS)  # initialises on demand
    clone = pickle.loads(pickle.dumps(ds))  # what spawned DataLoader workers receive
    assert [clone.get_data_info(i) for i in range(len(ds))] == \
        [ds.get_data_info(i) for i in range(len(ds))]
    sub = ds.get_subset([5, 0, -1])
    assert len(ds) == sum(TRAIN_COUNTS)
    assert [sub.get_data_info(i)['img_path'] for i in range(3)] == \
        [ds.get_data_info(i)['img_path'] for i in (5, 0, len(ds) - 1)]
    np.testing.assert_array_equal(sub.get_gt_labels(), ds.get_gt_labels()[[5, 0, -1]])
    assert sub.class_counts.sum() == 3
    first = AliProductsDataset(data_root=layout_root, num_classes=NUM_CLASSES, indices=4)
    np.testing.assert_array_equal(first.get_gt_labels(), ds.get_gt_labels()[:4])
