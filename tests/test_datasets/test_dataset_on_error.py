"""The ``on_error`` policy: raise with the path, or resample within the class and record it."""
import os.path as osp
import re

import pytest
from dataset_testing import TRAIN_COUNTS, layout_root_fixture, log_messages_fixture  # noqa: F401

from aliprod_plugins.datasets import AliProductsDataset
from aliprod_plugins.transforms.errors import ImageLoadError


class FailOn:
    """A loading stand-in: raises ImageLoadError for the given paths and counts its calls."""

    def __init__(self, bad=()):
        self.bad, self.calls = set(bad), 0

    def __call__(self, results: dict) -> dict:
        self.calls += 1
        if results['img_path'] in self.bad:
            raise ImageLoadError(results['img_path'], 'truncated file')
        return results


def build(root, fail, on_error='resample', packed=True, **kwargs):
    pipeline = [fail, dict(type='LoadImageFromFile')]
    if packed:
        pipeline.append(dict(type='PackInputs'))
    return AliProductsDataset(
        data_root=root,
        num_classes=len(TRAIN_COUNTS),
        on_error=on_error,
        pipeline=pipeline,
        **kwargs)


def paths_of(ds):
    return [ds.get_data_info(i)['img_path'] for i in range(len(ds))]


def test_raise_lets_the_error_through_with_its_path(layout_root):
    fail = FailOn()
    ds = build(layout_root, fail, on_error='raise')
    fail.bad.add(paths_of(ds)[3])
    with pytest.raises(ImageLoadError, match=re.escape(repr(paths_of(ds)[3]))):
        ds[3]


def test_resample_takes_the_same_class_and_records_the_path(layout_root, log_messages):
    fail = FailOn()
    ds = build(layout_root, fail)
    paths, labels = paths_of(ds), ds.get_gt_labels()
    idx = int(list(labels).index(2))
    bad = paths[idx]
    fail.bad.add(bad)
    first = ds[idx]
    sample = first['data_samples']
    assert sample.metainfo['bad_image_paths'] == [bad]
    assert sample.img_path != bad and osp.dirname(sample.img_path) == osp.dirname(bad)
    assert int(sample.gt_label) == 2 and tuple(first['inputs'].shape) == (3, 8, 8)
    # deterministic: the same replacement on every call, warned about once
    assert ds[idx]['data_samples'].img_path == sample.img_path
    assert sum(bad in m for m in log_messages) == 1
    assert 'bad_image_paths' not in ds[idx + 1]['data_samples'].metainfo
    # and the same in a new instance (another worker, another run)
    again = build(layout_root, FailOn([bad]))
    assert again[idx]['data_samples'].img_path == sample.img_path


def test_resample_skips_every_bad_image_of_the_class(layout_root):
    fail = FailOn()
    ds = build(layout_root, fail, packed=False)
    paths, labels = paths_of(ds), list(ds.get_gt_labels())
    members = [p for p, c in zip(paths, labels) if c == 2]
    fail.bad.update(members[:-1])
    for p in members[:-1]:
        data = ds[paths.index(p)]
        assert data['img_path'] == members[-1]
        assert data['bad_image_paths'][0] == p
        assert set(data['bad_image_paths']) <= set(members[:-1])


def test_resample_gives_up_after_max_resample(layout_root):
    fail = FailOn()
    ds = build(layout_root, fail, max_resample=3)
    paths, labels = paths_of(ds), list(ds.get_gt_labels())
    fail.bad.update(p for p, c in zip(paths, labels) if c == 2)  # 6 bad images
    with pytest.raises(
            RuntimeError,
            match=r'4 images of class 00002 failed to load for '
            r'sample \d+ .*max_resample=3'):
        ds[labels.index(2)]
    assert fail.calls == 4
    fail.bad.update(p for p, c in zip(paths, labels) if c == 3)  # the 2 images of class 3
    fail.calls = 0
    with pytest.raises(RuntimeError, match='2 images of class 00003 failed.*class size 2'):
        ds[labels.index(3)]
    assert fail.calls == 2


def test_resample_needs_labels(layout_root):
    with pytest.raises(
            ValueError,
            match='on_error="resample" replaces an image by one of the '
            'same class, but .*test.json has no labels'):
        AliProductsDataset(data_root=layout_root, split='test', num_classes=5, on_error='resample')
