"""RebalancedSampler and its named special cases: distribution, determinism, ranks, errors."""
import math

import numpy as np
import pytest
from mmengine.registry import DefaultScope
from mmengine.runner import Runner
from sampler_testing import LabelDataset, chi_square_ok, long_tail_counts, make_dataset

import aliprod_plugins.samplers.rebalanced_sampler as rebalanced_module
from aliprod_plugins.samplers import (ClassBalancedSampler, InstanceBalancedSampler,
                                      RebalancedSampler)

COUNTS = long_tail_counts()


def draw_counts(sampler, dataset):
    return np.bincount(dataset.labels[np.fromiter(iter(sampler), dtype=np.int64)],
                       minlength=dataset.labels.max() + 1)


@pytest.mark.parametrize('power', [0.0, 0.5, 1.0, -0.5, 2.0])
def test_class_frequencies_follow_power(power):
    dataset = make_dataset(COUNTS)
    sampler = RebalancedSampler(dataset, power=power, seed=3, num_samples=30000)
    probs = COUNTS.astype(float)**power / (COUNTS.astype(float)**power).sum()
    passed, stat, crit = chi_square_ok(draw_counts(sampler, dataset), probs)
    assert passed, (power, stat, crit)


@pytest.mark.parametrize('sampler_type,power', [(ClassBalancedSampler, 0.0),
                                                (InstanceBalancedSampler, 1.0)])
def test_named_samplers_match_their_law_and_not_the_other(sampler_type, power):
    dataset = make_dataset(COUNTS)
    observed = draw_counts(sampler_type(dataset, seed=5, num_samples=30000), dataset)
    for q in (0.0, 0.5, 1.0):
        probs = COUNTS.astype(float)**q / (COUNTS.astype(float)**q).sum()
        # the chi-square test accepts the sampler's own law and rejects the others
        assert chi_square_ok(observed, probs)[0] == (q == power), q


def test_named_samplers_are_the_power_special_cases():
    dataset = make_dataset(COUNTS)
    pairs = [(ClassBalancedSampler(dataset, seed=9), RebalancedSampler(dataset, 0.0, seed=9)),
             (InstanceBalancedSampler(dataset, seed=9), RebalancedSampler(dataset, 1, seed=9))]
    for named, general in pairs:
        named.set_epoch(4)
        general.set_epoch(4)
        assert list(named) == list(general)


def test_instance_balanced_epoch_is_a_shuffled_pass():
    dataset = make_dataset(COUNTS)
    sampler = InstanceBalancedSampler(dataset, seed=1)
    indices = list(sampler)
    assert sorted(indices) == list(range(len(dataset)))
    assert indices != sorted(indices)
    sampler = InstanceBalancedSampler(dataset, seed=1, num_samples=2 * len(dataset) + 7)
    assert np.bincount(list(sampler)).min() >= 2


def test_deterministic_in_seed_and_epoch():
    dataset = make_dataset(COUNTS)
    for cls in (InstanceBalancedSampler, ClassBalancedSampler):
        a, b, c = cls(dataset, seed=7), cls(dataset, seed=7), cls(dataset, seed=8)
        assert list(a) == list(b)
        assert list(a) != list(c)
        epoch0 = list(a)
        a.set_epoch(1)
        b.set_epoch(1)
        assert list(a) == list(b) != epoch0
        a.set_epoch(0)
        assert list(a) == epoch0


@pytest.mark.parametrize('world_size', [1, 2, 3])
@pytest.mark.parametrize('sampler_type', [InstanceBalancedSampler, ClassBalancedSampler])
def test_ranks_share_one_global_draw(world_size, sampler_type):
    dataset = make_dataset([9, 5, 3, 1, 1, 12, 6])  # N = 37, divisible by neither 2 nor 3
    n = len(dataset)
    per_rank = math.ceil(n / world_size)
    single = sampler_type(dataset, seed=11, rank=0, world_size=1)
    single.set_epoch(2)
    reference = np.resize(np.asarray(list(single)), per_rank * world_size)
    shares = []
    for rank in range(world_size):
        sampler = sampler_type(dataset, seed=11, rank=rank, world_size=world_size)
        sampler.set_epoch(2)
        share = list(sampler)
        assert len(sampler) == len(share) == per_rank
        shares.append(share)
    # interleaving the ranks' shares gives back the padded single-process draw
    interleaved = np.stack(shares, axis=1).reshape(-1)
    np.testing.assert_array_equal(interleaved, reference)
    if sampler_type is InstanceBalancedSampler:
        union = set().union(*map(set, shares))
        assert union == set(range(n))
        padding = per_rank * world_size - n
        overlap = sum(len(s) for s in shares) - len(union)
        assert overlap == padding


def test_dist_info_and_seed_defaults(monkeypatch):
    monkeypatch.setattr(rebalanced_module, 'get_dist_info', lambda: (2, 3))
    monkeypatch.setattr(rebalanced_module, 'sync_random_seed', lambda: 1234)
    sampler = ClassBalancedSampler(make_dataset(COUNTS))
    assert (sampler.rank, sampler.world_size, sampler.seed) == (2, 3, 1234)
    assert len(sampler) == math.ceil(COUNTS.sum() / 3)


def test_num_samples_sets_epoch_length():
    sampler = ClassBalancedSampler(make_dataset(COUNTS), seed=0, num_samples=101, rank=1,
                                   world_size=4)
    assert len(sampler) == len(list(sampler)) == 26


def test_empty_classes():
    classes = [f'{i:05d}' for i in range(5)]
    dataset = make_dataset([4, 0, 3, 0, 2], classes=classes)  # classes 00001, 00003 empty
    with pytest.raises(ValueError, match=r'2 class\(es\) without samples.*00001, 00003'):
        ClassBalancedSampler(dataset, seed=0)
    with pytest.raises(ValueError, match='without samples'):
        RebalancedSampler(dataset, power=-1.0, seed=0)
    for sampler in (ClassBalancedSampler(dataset, seed=0, skip_empty_classes=True),
                    RebalancedSampler(dataset, power=0.5, seed=0, num_samples=500),
                    InstanceBalancedSampler(dataset, seed=0)):
        drawn = set(dataset.labels[list(sampler)].tolist())
        assert drawn == {0, 2, 4}


def test_metainfo_classes_fix_the_class_set():
    dataset = make_dataset([3, 3], classes=['00000', '00001', '00002'])
    assert RebalancedSampler(dataset, 0.5, seed=0).index.num_classes == 3
    with pytest.raises(ValueError, match=r'labels expected in \[0, 2\).*got label 2'):
        RebalancedSampler(make_dataset([1, 1, 1], classes=['a', 'b']), seed=0)


class Unlabelled:

    def __len__(self):
        return 3

    def get_gt_labels(self):
        return np.full(3, -1, dtype=np.int64)


@pytest.mark.parametrize('labels,match', [
    (None, 'has none'),
    ([], 'non-empty'),
    ([0, -2, 1], 'labels >= 0, got -2 at index 1'),
    ([0.0, 1.0], 'integer labels'),
])
def test_bad_labels(labels, match):
    dataset = Unlabelled() if labels is None else LabelDataset(labels)
    with pytest.raises(ValueError, match=match):
        ClassBalancedSampler(dataset, seed=0)


def test_dataset_flagged_unlabelled():
    dataset = LabelDataset([0, 1, 1])
    dataset.has_labels = False
    with pytest.raises(ValueError, match='has_labels=False'):
        InstanceBalancedSampler(dataset, seed=0)


def test_dataset_without_labels_api():
    with pytest.raises(ValueError, match='get_gt_labels'):
        ClassBalancedSampler([1, 2, 3], seed=0)


@pytest.mark.parametrize('kwargs,match', [
    (dict(power=float('nan')), 'RebalancedSampler: power expected a number, got nan'),
    (dict(power='0.5'), "power expected a number, got '0.5'"),
    (dict(num_samples=0), 'num_samples expected an int >= 1 or None, got 0'),
    (dict(num_samples=True), 'num_samples expected an int >= 1 or None, got True'),
    (dict(seed=-1), 'seed expected an int >= 0, got -1'),
    (dict(world_size=0), 'world_size expected an int >= 1, got 0'),
    (dict(rank=2, world_size=2), r'rank expected an int in \[0, 1\], got 2'),
    (dict(skip_empty_classes='yes'), 'skip_empty_classes expected a bool'),
])
def test_bad_options(kwargs, match):
    kwargs.setdefault('seed', 0)
    with pytest.raises(ValueError, match=match):
        RebalancedSampler(make_dataset(COUNTS), **kwargs)


def test_built_by_mmengine_build_dataloader():
    dataset = make_dataset(COUNTS)
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        loader = Runner.build_dataloader(
            dict(dataset=dataset, sampler=dict(type='RebalancedSampler', power=0.5),
                 batch_size=8, num_workers=0), seed=21)
    assert isinstance(loader.sampler, RebalancedSampler)
    assert loader.sampler.seed == 21 and loader.sampler.power == 0.5
    assert len(loader) == math.ceil(len(dataset) / 8)
    assert sum(len(batch) for batch in loader) == len(dataset)
