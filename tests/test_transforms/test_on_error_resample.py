"""A truncated or missing image with the real dataset: named error, or same-class resample.

The ``on_error`` policy lives in ``AliProductsDataset``; ``LoadImageScaled`` raises the error
it catches and ``BadImageHook`` counts what it recorded.
"""
import os
import os.path as osp
import re
from types import SimpleNamespace

import pytest
from mmengine.dataset import pseudo_collate
from mmengine.hooks import LoggerHook
from mmengine.logging import MessageHub

from aliprod_plugins.datasets import AliProductsDataset
from aliprod_plugins.hooks import BadImageHook
from aliprod_plugins.testing import make_aliproducts_root
from aliprod_plugins.transforms import ImageLoadError

PIPELINE = [dict(type='LoadImageScaled', min_size=16), dict(type='PackInputs')]


@pytest.fixture
def broken_root(tmp_path):
    """Four classes; one truncated JPEG in class 1, one file of class 2 deleted later."""
    root = make_aliproducts_root(
        str(tmp_path / 'root'), train_counts=[6, 5, 4, 3], val_counts=[2] * 4, size=(36, 40))
    truncated = osp.join(root, 'train', '00001',
                         sorted(os.listdir(osp.join(root, 'train', '00001')))[0])
    with open(truncated, 'rb') as f:
        data = f.read()
    with open(truncated, 'wb') as f:
        f.write(data[:len(data) // 2])
    missing = osp.join(root, 'train', '00002',
                       sorted(os.listdir(osp.join(root, 'train', '00002')))[-1])
    return root, truncated, missing


def dataset(root, on_error):
    ds = AliProductsDataset(
        data_root=root, split='train', num_classes=4, on_error=on_error, pipeline=PIPELINE)
    paths = [ds.get_data_info(i)['img_path'] for i in range(len(ds))]
    return ds, paths


def test_raise_names_the_full_path(broken_root):
    root, truncated, missing = broken_root
    ds, paths = dataset(root, 'raise')
    with pytest.raises(ImageLoadError, match=re.escape(repr(truncated)) + '.*truncated'):
        ds[paths.index(truncated)]
    os.remove(missing)  # vanished after the dataset was built
    with pytest.raises(ImageLoadError, match=re.escape(repr(missing)) + ': file not found'):
        ds[paths.index(missing)]


def test_resample_replaces_from_the_same_class_and_is_counted(broken_root):
    root, truncated, missing = broken_root
    ds, paths = dataset(root, 'resample')
    os.remove(missing)
    bad = {paths.index(truncated): truncated, paths.index(missing): missing}
    samples = [ds[i] for i in range(len(ds))]
    for idx, sample in enumerate(samples):
        meta = sample['data_samples'].metainfo
        assert int(sample['data_samples'].gt_label) == ds.get_data_info(idx)['gt_label']
        assert sample['inputs'].shape[0] == 3
        if idx in bad:
            assert meta['bad_image_paths'] == [bad[idx]]
            assert meta['img_path'] != bad[idx]
            assert osp.dirname(meta['img_path']) == osp.dirname(bad[idx])  # same class
        else:
            assert not meta.get('bad_image_paths')
    # the main-process hook counts them from the collated batches
    hook = BadImageHook()
    runner = SimpleNamespace(
        message_hub=MessageHub.get_instance('resample_count'),
        iter=0,
        hooks=[LoggerHook(interval=1)],
        train_dataloader=[None] * 3)
    hook.before_train(runner)
    for i, start in enumerate(range(0, len(samples), 6)):
        hook.after_train_iter(runner, i, pseudo_collate(samples[start:start + 6]))
        runner.iter += 1
    assert runner.message_hub.get_scalar('train/bad_images').current() == 2
    assert hook.seen == {truncated, missing}


def test_train_log_shows_the_count(broken_root, tmp_path):
    # end to end through tools/train.py with the demo config (~10 s)
    from conftest import REPO_ROOT, demo_overrides, run_tool
    root, truncated, missing = broken_root
    os.remove(missing)
    proc = run_tool([
        'python',
        osp.join(REPO_ROOT, 'tools', 'train.py'),
        osp.join(REPO_ROOT, 'configs', 'demo', 'digits_lt_stage1.py'), '--work-dir',
        str(tmp_path / 'work'), '--cfg-options', *demo_overrides(root, max_epochs=1),
        'train_dataloader.dataset.on_error=resample', 'train_dataloader.dataset.check_files=off'
    ])
    out = proc.stdout + proc.stderr
    for path in (truncated, missing):
        assert out.count(f'unreadable image replaced by another sample of its class: {path}') \
            == 1
    counts = re.findall(r'Epoch\(train\) \[1\]\[\d+/\d+\].*bad_images: (\d+)', out)
    assert counts and counts[-1] == '2'
    # the README's promise: the count is in every training log line (logged at every
    # iteration here), and it only grows
    lines = re.findall(r'Epoch\(train\) \[1\]\[\s*(\d+)/(\d+)\](.*)', out)
    assert [int(i) for i, _, _ in lines] == list(range(1, int(lines[0][1]) + 1))
    assert all('bad_images: ' in rest for _, _, rest in lines)
    assert [int(c) for c in counts] == sorted(int(c) for c in counts)
