"""Head capping: exact, uniform, reproducible, independent of rank / world size / process."""
import json
import os.path as osp
import subprocess
import sys

import numpy as np
import pytest
from dataset_testing import layout_root_fixture, log_messages_fixture, write_json  # noqa: F401

from aliprod_plugins.datasets import AliProductsDataset, cap_per_class, capping, count_summary

COUNTS = [1, 5, 10, 37, 300, 0, 11]


def long_tail_labels(seed=0):
    return np.random.default_rng(seed).permutation(np.repeat(np.arange(len(COUNTS)), COUNTS))


@pytest.mark.parametrize('cap', [1, 10, 36, 299, 1000])
def test_exact_counts_and_order(cap):
    labels = long_tail_labels()
    kept = cap_per_class(labels, cap, seed=3)
    assert kept.dtype == np.int64 and np.all(np.diff(kept) > 0)
    np.testing.assert_array_equal(
        np.bincount(labels[kept], minlength=len(COUNTS)), np.minimum(COUNTS, cap))
    small = np.isin(labels, np.flatnonzero(np.array(COUNTS) <= cap))
    assert np.isin(np.flatnonzero(small), kept).all()  # classes under the cap are kept whole


def test_reproducible_and_seeded():
    labels = long_tail_labels()
    a, b = cap_per_class(labels, 10, seed=0), cap_per_class(labels.copy(), 10, seed=0)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, cap_per_class(labels, 10, seed=1))


def test_uniform_selection_within_a_class():
    labels = np.repeat([0, 1], [20, 3])
    hits = np.zeros(len(labels))
    for seed in range(2000):
        hits[cap_per_class(labels, 5, seed)] += 1
    assert np.all(np.abs(hits[:20] - 500) < 75)  # expected 2000 * 5 / 20, sd ~19
    assert np.all(hits[20:] == 2000)


def test_keys_are_a_fixed_integer_function_not_a_numpy_stream():

    def splitmix64(x):  # the reference finaliser, in plain Python integers
        mask = (1 << 64) - 1
        x ^= x >> 30
        x = (x * 0xBF58476D1CE4E5B9) & mask
        x ^= x >> 27
        x = (x * 0x94D049BB133111EB) & mask
        return x ^ (x >> 31)

    idx = np.array([0, 1, 2, 1000, 2_500_000])
    for seed in (0, 7):
        base = (seed * 0x9E3779B97F4A7C15) & ((1 << 64) - 1)
        expected = [splitmix64((int(i) + base) & ((1 << 64) - 1)) for i in idx]
        assert capping.random_keys(idx, seed).tolist() == expected


def test_same_selection_in_a_fresh_process():
    labels = long_tail_labels(1)
    code = ('import importlib.util, sys, numpy as np; '
            f'spec = importlib.util.spec_from_file_location("c", {capping.__file__!r}); '
            'm = importlib.util.module_from_spec(spec); spec.loader.exec_module(m); '
            f'print(m.cap_per_class(np.array({labels.tolist()}), 10, 5).tolist())')
    out = subprocess.run([sys.executable, '-c', code],
                         check=True,
                         capture_output=True,
                         text=True,
                         env={
                             'PYTHONHASHSEED': '123'
                         }).stdout
    assert json.loads(out) == cap_per_class(labels, 10, 5).tolist()


def test_truncated_key_ties_fall_back_to_the_exact_ranking(monkeypatch):
    labels = long_tail_labels()
    reference = cap_per_class(labels, 10, seed=0)
    real = capping.random_keys
    calls = []

    def tied_keys(indices, seed):  # the first call only: keys that all tie
        calls.append(1)
        keys = real(indices, seed)
        return np.zeros_like(keys) if len(calls) == 1 else keys

    monkeypatch.setattr(capping, 'random_keys', tied_keys)
    kept = cap_per_class(labels, 10, seed=0)
    assert len(calls) == 2  # the tie was detected and the exact ranking used
    np.testing.assert_array_equal(kept, reference)


def test_dataset_capping_is_the_same_on_every_rank(tmp_path, monkeypatch, log_messages):
    labels = long_tail_labels()
    path = write_json(tmp_path / 'train.json', [{
        'class_id': f'{c:05d}',
        'image_id': f'{i}.jpg'
    } for i, c in enumerate(labels.tolist())])
    kw = dict(ann_file=path, num_classes=len(COUNTS), max_per_class=10, check_files='off')
    full = AliProductsDataset(ann_file=path, num_classes=len(COUNTS), check_files='off')
    ref = AliProductsDataset(**kw)
    paths = [ref.get_data_info(i)['img_path'] for i in range(len(ref))]
    for rank, world in [(0, 1), (1, 2), (5, 8)]:
        monkeypatch.setenv('RANK', str(rank))
        monkeypatch.setenv('WORLD_SIZE', str(world))
        monkeypatch.setattr('mmengine.dist.get_dist_info', lambda: (rank, world))
        ds = AliProductsDataset(**kw)
        assert [ds.get_data_info(i)['img_path'] for i in range(len(ds))] == paths
    # kept samples keep the annotation order and their labels
    all_paths = [full.get_data_info(i)['img_path'] for i in range(len(full))]
    kept = [all_paths.index(p) for p in paths]
    assert kept == sorted(kept)
    np.testing.assert_array_equal(ref.get_gt_labels(), labels[kept])
    np.testing.assert_array_equal(ref.class_counts, np.minimum(COUNTS, 10))
    np.testing.assert_array_equal(ref.class_counts_before_cap, COUNTS)
    summary = [m for m in log_messages if 'capped at 10 images per class' in m]
    assert summary, log_messages
    assert f'before: {count_summary(np.array(COUNTS))}' in summary[0]
    assert 'before: 364 images in 6 / 7 classes, per class min 1 / median 10.5 / max 300, ' \
        'imbalance ratio 300.0' in summary[0]
    assert 'after: 46 images in 6 / 7 classes, per class min 1 / median 10 / max 10, ' \
        'imbalance ratio 10.0; removed 318 (87.4%)' in summary[0]


def test_cap_above_every_class_keeps_everything(layout_root):
    ds = AliProductsDataset(data_root=layout_root, num_classes=5, max_per_class=1000)
    assert len(ds) == ds.class_counts_before_cap.sum() == ds.class_counts.sum()
    assert osp.isfile(ds.get_data_info(0)['img_path'])
