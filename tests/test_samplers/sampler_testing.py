"""Label-only datasets and a chi-square check shared by the sampler tests (pytest puts this
folder on sys.path)."""
import math

import numpy as np


class LabelDataset:
    """The part of a dataset a class-aware sampler reads: ``__len__`` and ``get_gt_labels()``."""

    def __init__(self, labels, classes=None):
        self.labels = np.asarray(labels)
        if classes is not None:
            self.metainfo = dict(classes=tuple(classes))

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, idx):
        return int(idx)

    def get_gt_labels(self):
        return self.labels


def make_dataset(counts, shuffle_seed=0, classes=None) -> LabelDataset:
    """A shuffled label set with ``counts[c]`` samples of class ``c``."""
    labels = np.repeat(np.arange(len(counts)), counts)
    np.random.default_rng(shuffle_seed).shuffle(labels)
    return LabelDataset(labels, classes=classes)


def long_tail_counts():
    """A long-tailed label set: 12 classes, geometric sizes 200 ... 5."""
    return np.round(np.geomspace(200, 5, 12)).astype(np.int64)


def chi_square_ok(observed, probs, z=3.09):
    """Goodness of fit at p ~ 0.001: ``(statistic < quantile, statistic, quantile)``.

    The chi-square quantile is the Wilson-Hilferty approximation, which needs no scipy.
    """
    observed = np.asarray(observed, dtype=np.float64)
    expected = observed.sum() * np.asarray(probs, dtype=np.float64)
    keep = expected > 0
    assert observed[~keep].sum() == 0, 'draws in classes of probability 0'
    stat = float(((observed[keep] - expected[keep])**2 / expected[keep]).sum())
    k = int(keep.sum()) - 1
    crit = k * (1 - 2 / (9 * k) + z * math.sqrt(2 / (9 * k)))**3
    return stat < crit, stat, crit
