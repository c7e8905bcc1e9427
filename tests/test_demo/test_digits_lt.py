"""The Digits-LT builder: layout, long-tailed counts, the unlabelled test split, determinism."""
import hashlib
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
    with pytest.raises(ValueError, match='imbalance_ratio expected a number >= 1, got 0.5'):
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
    for name in ('train.json', 'val.json', 'test.json'):
        assert open(osp.join(root, name)).read() == open(tmp_path / 'again' / name).read()
    other = build_digits_lt(str(tmp_path / 'other'), seed=1)
    assert other['train'] != counts['train']  # the head is another digit


def test_too_many_images_asked_for(tmp_path):
    with pytest.raises(ValueError, match='n_max must be <='):
        build_digits_lt(str(tmp_path), n_max=1000)


def test_unlabelled_test_split_from_the_images_left_over(built, tmp_path):
    from sklearn.datasets import load_digits

    from aliprod_plugins.datasets import AliProductsDataset
    root, counts = built
    test = json.load(open(osp.join(root, 'test.json')))['images']
    assert all(set(e) == {'image_id'} for e in test)  # no labels
    ids = [e['image_id'] for e in test]
    assert sorted(os.listdir(osp.join(root, 'test'))) == sorted(ids)
    used = {e['image_id'] for split in ('train', 'val')
            for e in json.load(open(osp.join(root, f'{split}.json')))['images']}
    assert len(set(ids)) == len(ids) and not set(ids) & used
    # the hidden labels: image ids are indices into scikit-learn's digits
    target = load_digits().target
    hidden = np.bincount(target[[int(i.split('.')[0]) for i in ids]], minlength=10)
    left_over = np.bincount(target, minlength=10) - np.array(counts['train']) - 40
    assert hidden.tolist() == counts['test'] == np.minimum(left_over, 10).tolist()
    assert ids != sorted(ids, key=lambda i: target[int(i.split('.')[0])])  # shuffled
    ds = AliProductsDataset(data_root=root, split='test', num_classes=10)
    assert not ds.has_labels and len(ds) == len(ids)


def test_the_test_split_leaves_train_and_val_unchanged(built, tmp_path):
    # the README's demo figures were measured on the train / val images of a build without
    # a test split: they must stay byte for byte the same
    root, counts = built
    # the splits of the build the README's figures come from (before the test split existed)
    for split, digest in (
            ('train', 'e20b84a259d65771176dcc58d91e33abded5283e42148b8eacf1ac52352fa3c7'),
            ('val', 'ce9879b6f3b624b43dcdd6ea555062f2e02b62e3cf51d48f8453d315ef907916')):
        with open(osp.join(root, f'{split}.json'), 'rb') as f:
            assert hashlib.sha256(f.read()).hexdigest() == digest, split
    without = str(tmp_path / 'without_test')
    again = build_digits_lt(without, seed=0, test_per_class=0)
    assert again == dict(counts, test=[0] * 10)
    assert not osp.exists(osp.join(without, 'test.json'))
    for split in ('train', 'val'):
        assert open(osp.join(root, f'{split}.json')).read() == \
            open(osp.join(without, f'{split}.json')).read()
        for entry in json.load(open(osp.join(root, f'{split}.json')))['images']:
            rel = osp.join(split, entry['class_id'], entry['image_id'])
            assert open(osp.join(root, rel), 'rb').read() == \
                open(osp.join(without, rel), 'rb').read(), rel
