"""ClassIndex and draw_classes: the vectorised building blocks of the samplers."""
import numpy as np

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
