"""The Digits-LT builder: layout, long-tailed counts, determinism."""
import json
import os
import os.path as osp

import numpy as np
import pytest

from aliprod_plugins.demo import build_digits_lt, long_tail_profile


def test_profile_is_exponential_with_the_requested_ratio():
    sizes = long_tail_profile(10, 130, 40.0)
    assert sizes[0] == 130 and sizes[-1] == round(130 / 40)
    assert np.all(np.diff(sizes) <= 0)
    ratios = sizes[:-1] / sizes[1:]
    np.testing.assert_allclose(ratios[:5], 40 ** (1 / 9), rtol=0.05)
    with pytest.raises(ValueError, match='imbalance_ratio must be >= 1'):
        long_tail_profile(10, 130, 0.5)


@pytest.fixture(scope='module')
def built(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('digits_lt'))
    return root, build_digits_lt(root, seed=0)


def test_layout_and_counts(built):
    root, counts = built
    train = json.load(open(osp.join(root, 'train.json')))['images']
    val = json.load(open(osp.join(root, 'val.json')))['images']
    assert len(train) == sum(counts['train']) and len(val) == sum(counts['val'])
    assert counts['val'] == [40] * 10
    assert sorted(counts['train'], reverse=True) == long_tail_profile(10, 130, 40.0).tolist()
    train_counts = np.array(counts['train'])
    # head > 100, some medium (20-100), a tail < 20: every shot group is populated
    assert (train_counts > 100).any() and ((train_counts >= 20) & (train_counts <= 100)).any()
    assert (train_counts < 20).any()
    for entry in train[:20] + val[:20]:
        assert len(entry['class_id']) == 5
    split_of = {'train': train, 'val': val}
    for split, entries in split_of.items():
        for c in range(10):
            files = os.listdir(osp.join(root, split, f'{c:05d}'))
            assert len(files) == sum(e['class_id'] == f'{c:05d}' for e in entries)
    # train and val never share an image
    assert not {e['image_id'] for e in train} & {e['image_id'] for e in val}
    from PIL import Image
    img = Image.open(osp.join(root, 'train', train[0]['class_id'], train[0]['image_id']))
    assert img.format == 'JPEG' and img.size == (32, 32)


def test_deterministic_and_seeded(built, tmp_path):
    root, counts = built
    again = build_digits_lt(str(tmp_path / 'again'), seed=0)
    assert again == counts
    assert open(osp.join(root, 'train.json')).read() == \
        open(tmp_path / 'again' / 'train.json').read()
    other = build_digits_lt(str(tmp_path / 'other'), seed=1)
    assert other['train'] != counts['train']  # the head is another digit


def test_too_many_images_asked_for(tmp_path):
    with pytest.raises(ValueError, match='n_max must be <='):
        build_digits_lt(str(tmp_path), n_max=1000)
