"""ClassIndex and draw_classes: the vectorised building blocks of the samplers."""
import numpy as np
from sampler_testing import chi_square_ok, long_tail_counts, make_dataset

from aliprod_plugins.samplers import ClassBalancedSampler
from aliprod_plugins.samplers.class_index import ClassIndex, draw_classes


def test_class_index_lists_each_class_samples():
    labels = np.array([2, 0, 2, 1, 0, 2, 4])
    index = ClassIndex(labels, num_classes=6)
    assert index.counts.tolist() == [2, 1, 3, 0, 1, 0]
    assert index.empty_classes.tolist() == [3, 5]
    for c in range(6):
        members = index.order[index.offsets[c]:index.offsets[c] + index.counts[c]]
        assert members.tolist() == np.flatnonzero(labels == c).tolist()


def test_sample_within_stays_in_class():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 50, size=2000)
    index = ClassIndex(labels)
    classes = rng.integers(0, 50, size=5000)
    classes = classes[index.counts[classes] > 0]
    drawn = index.sample_within(rng, classes)
    assert (labels[drawn] == classes).all()


def test_draw_classes_equals_inverse_cdf():
    rng = np.random.default_rng(1)
    probs = rng.random(300)**3
    probs[rng.random(300) < 0.2] = 0  # classes of probability 0 are never drawn
    probs /= probs.sum()
    seed = np.random.default_rng(2)
    classes = draw_classes(seed, probs, 20000)
    u = np.random.default_rng(2).random(20000)
    cdf = np.cumsum(probs)
    expected = np.searchsorted(cdf, np.minimum(u * cdf[-1], np.nextafter(cdf[-1], 0)),
                               side='right')
    np.testing.assert_array_equal(classes, expected)
    assert (probs[classes] > 0).all()


def test_draw_classes_uniform_support():
    probs = np.array([0.0, 0.25, 0.25, 0.0, 0.25, 0.25])
    classes = draw_classes(np.random.default_rng(0), probs, 4000)
    assert set(np.unique(classes).tolist()) == {1, 2, 4, 5}


def test_sample_within_is_uniform_inside_each_class():
    # a class of 1, 2, 7 and 40 samples, 6,000 draws each: every member of a class must be
    # drawn equally often (a sampler that favours the first or never reaches the last image
    # of a class keeps the class frequencies right and fails here)
    dataset = make_dataset([1, 2, 7, 40], shuffle_seed=3)
    index = ClassIndex(dataset.labels)
    classes = np.repeat(np.arange(4), 6000)
    drawn = index.sample_within(np.random.default_rng(0), classes)
    for c in range(4):
        members = np.flatnonzero(dataset.labels == c)
        picked = drawn[classes == c]
        assert np.isin(picked, members).all()
        observed = np.bincount(np.searchsorted(members, picked), minlength=len(members))
        if len(members) == 1:
            assert observed.tolist() == [6000]
            continue
        passed, stat, crit = chi_square_ok(observed, np.full(len(members), 1 / len(members)))
        assert passed, (c, observed.tolist(), stat, crit)


def test_class_balanced_sampler_draws_each_sample_with_probability_one_over_c_n_c():
    counts = long_tail_counts()  # 12 classes, 200 ... 5 samples
    dataset = make_dataset(counts, shuffle_seed=1)
    sampler = ClassBalancedSampler(dataset, seed=4, num_samples=60000)
    observed = np.bincount(np.fromiter(iter(sampler), dtype=np.int64), minlength=len(dataset))
    probs = 1.0 / (len(counts) * counts[dataset.labels])
    passed, stat, crit = chi_square_ok(observed, probs)
    assert passed, (stat, crit)
