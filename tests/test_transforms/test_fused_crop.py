"""``RandomResizedCropFlipPack`` = MMPretrain's RandomResizedCrop + RandomFlip + PackInputs.

The reference is the stock chain itself: from the same global NumPy state the fused transform
must draw the same crops and flips (same parameter distribution, draw for draw), give the same
pixels and metainfo, and leave the generator in the same state; under ``sample_rng`` it is a
function of (seed, epoch, position), which bit-exact resume relies on.
"""
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import Compose
from mmpretrain.datasets.transforms import RandomResizedCrop

import aliprod_plugins  # noqa: F401  registration only
from aliprod_plugins.engine import SampleKey, sample_rng
from aliprod_plugins.transforms import RandomResizedCropFlipPack

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def _stock(scale, crop=(0.08, 1.0), flip_prob=0.5, **kw):
    steps = [dict(type='RandomResizedCrop', scale=scale, crop_ratio_range=crop, **kw)]
    if flip_prob:
        steps.append(dict(type='RandomFlip', prob=flip_prob, direction='horizontal'))
    return Compose([dict(type=f'mmpretrain.{t.pop("type")}', **t) for t in steps] +
                   [dict(type='mmpretrain.PackInputs')])


def _results(img, label=3):
    return dict(img=img, img_path='a/b.jpg', ori_shape=img.shape[:2], img_shape=img.shape[:2],
                gt_label=label, sample_idx=7)


def _run(transform, results, seed):
    np.random.seed(seed)
    out = transform(dict(results))
    return out, np.random.random_sample()  # what the generator gives next


SHAPES = [(160, 213), (176, 120), (32, 400), (400, 26), (9, 9), (1, 1)]


@pytest.mark.parametrize('max_attempts', [10, 1, 0])
@pytest.mark.parametrize('flip_prob', [0.5, 0.3, 1.0, 0.0])
def test_same_pixels_meta_and_random_stream_as_the_stock_chain(max_attempts, flip_prob):
    rng = np.random.default_rng(0)
    kw = dict(max_attempts=max_attempts)
    stock = _stock(112, flip_prob=flip_prob, **kw)
    fused = RandomResizedCropFlipPack(112, flip_prob=flip_prob, **kw)
    flips = 0
    for i in range(30):
        shape = SHAPES[i % len(SHAPES)] + (3, )
        img = rng.integers(0, 256, shape, dtype=np.uint8)
        expected, next_expected = _run(stock, _results(img), seed=i)
        actual, next_actual = _run(fused, _results(img), seed=i)
        assert actual['inputs'].dtype == torch.uint8 and actual['inputs'].is_contiguous()
        assert torch.equal(actual['inputs'], expected['inputs']), (i, shape)
        assert actual['data_samples'].metainfo == expected['data_samples'].metainfo, i
        assert torch.equal(actual['data_samples'].gt_label, expected['data_samples'].gt_label)
        assert next_actual == next_expected  # consumed exactly the same draws
        flips += bool(actual['data_samples'].metainfo.get('flip'))
    if 0 < flip_prob < 1:
        assert 0 < flips < 30


def test_crop_parameters_are_mmpretrains_draw_for_draw():
    reference = RandomResizedCrop(112, crop_ratio_range=(0.08, 1.0))
    fused = RandomResizedCropFlipPack(112)
    img = np.zeros((150, 230, 3), np.uint8)
    ours, theirs = [], []
    for seed in range(500):
        np.random.seed(seed)
        theirs.append(reference.rand_crop_params.__wrapped__(reference, img))
        np.random.seed(seed)
        ours.append(fused.crop_params(150, 230))
    assert ours == theirs
    ours = np.array(ours)
    area = ours[:, 2] * ours[:, 3] / (150 * 230)
    assert area.min() >= 0.07 and area.max() <= 1.0 and 0.3 < area.mean() < 0.7


def test_grayscale_image_is_packed_as_one_channel():
    img = np.random.default_rng(1).integers(0, 256, (50, 60), dtype=np.uint8)
    expected, _ = _run(_stock(24), _results(img), seed=5)
    actual, _ = _run(RandomResizedCropFlipPack(24), _results(img), seed=5)
    assert actual['inputs'].shape == (1, 24, 24)
    assert torch.equal(actual['inputs'], expected['inputs'])


def test_a_function_of_seed_epoch_and_position_whatever_came_before():
    img = np.random.default_rng(2).integers(0, 256, (120, 90, 3), dtype=np.uint8)
    fused, stock = RandomResizedCropFlipPack(32), _stock(32)
    key = SampleKey(5, seed=0, epoch=3, position=17)
    outs = []
    for before in (0, 1):
        np.random.seed(before)  # a different history
        with sample_rng(key):
            outs.append(fused(_results(img))['inputs'])
    with sample_rng(key):
        ref = stock(_results(img))['inputs']
    assert torch.equal(outs[0], outs[1]) and torch.equal(outs[0], ref)
    with sample_rng(SampleKey(5, seed=0, epoch=4, position=17)):
        assert not torch.equal(fused(_results(img))['inputs'], outs[0])


@pytest.mark.parametrize('kwargs, match', [
    (dict(scale=0), 'scale expected'), (dict(scale=(112, )), 'scale expected'),
    (dict(scale=112, crop_ratio_range=(1.0, 0.5)), 'crop_ratio_range expected'),
    (dict(scale=112, max_attempts=-1), 'max_attempts expected'),
    (dict(scale=112, interpolation='cubic'), 'interpolation expected'),
    (dict(scale=112, flip_prob=1.5), 'flip_prob expected')])
def test_bad_arguments_are_named(kwargs, match):
    with pytest.raises(ValueError, match=match):
        RandomResizedCropFlipPack(**kwargs)


@pytest.mark.parametrize('name', ['resnest50_stage1_lmdb.py', 'resnest50_two_stage_lmdb.py'])
def test_packed_configs_use_the_fused_transform_as_the_files_config_crops(name):
    files = Config.fromfile(osp.join(REPO, 'configs', 'aliprod', 'resnest50_stage1.py'))
    packed = Config.fromfile(osp.join(REPO, 'configs', 'aliprod', name))
    pipe = packed.train_dataloader.dataset.pipeline
    assert [t['type'] for t in pipe] == ['LoadImageScaled', 'RandomResizedCropFlipPack']
    crop, flip = files.train_dataloader.dataset.pipeline[1:3]
    assert (pipe[1]['scale'], tuple(pipe[1]['crop_ratio_range']), pipe[1]['flip_prob']) == (
        crop['scale'], tuple(crop['crop_ratio_range']), flip['prob'])
