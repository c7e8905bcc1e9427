"""Reproducible per-class head capping and per-class count summaries (the start-up log line).

The selection is a function of the labels (in annotation order) and the seed only: every
rank, every DataLoader worker, every run and every resume keeps the same samples, whatever
the world size, and whatever NumPy version is installed (the random keys come from a fixed
integer hash, not from a NumPy generator whose streams may change between releases).
"""
from typing import Optional

import numpy as np

_MASK64 = (1 << 64) - 1


def _splitmix64(x: np.ndarray) -> np.ndarray:
    """The SplitMix64 finaliser: a bijection on uint64 that scrambles consecutive inputs."""
    x = x.copy()
    x ^= x >> np.uint64(30)
    x *= np.uint64(0xBF58476D1CE4E5B9)
    x ^= x >> np.uint64(27)
    x *= np.uint64(0x94D049BB133111EB)
    x ^= x >> np.uint64(31)
    return x


def random_keys(indices: np.ndarray, seed: int) -> np.ndarray:
    """Pseudo-random uint64 keys of sample ``indices``, determined by ``seed`` alone
    (distinct for distinct indices)."""
    base = np.uint64((int(seed) * 0x9E3779B97F4A7C15) & _MASK64)
    with np.errstate(over='ignore'):
        return _splitmix64(np.asarray(indices, dtype=np.uint64) + base)


def cap_per_class(labels: np.ndarray, max_per_class: int, seed: int = 0) -> np.ndarray:
    """Choose at most ``max_per_class`` samples of every class, uniformly at random.

    Within each class the samples with the ``max_per_class`` smallest random keys are kept,
    which is a uniform random subset; classes at or under the cap are kept whole. The keys
    of the over-cap samples are sorted once with their label in the top bits, and a sample
    is kept when its key is at most its class's ``max_per_class``-th smallest key.

    Args:
        labels (np.ndarray): Non-negative integer labels, one per sample.
        max_per_class (int): The cap.
        seed (int): Selection seed. Defaults to 0.

    Returns:
        np.ndarray: Increasing int64 indices of the kept samples (annotation order is kept).
    """
    labels = np.asarray(labels, dtype=np.int64)
    counts = np.bincount(labels)
    big = counts > max_per_class
    keep = np.ones(len(labels), dtype=bool)
    if not big.any():
        return np.flatnonzero(keep)
    over = np.flatnonzero(big[labels])
    shift = np.uint64(64 - max(int(len(counts) - 1).bit_length(), 1))
    keys = random_keys(over, seed) >> (np.uint64(64) - shift)
    keys |= labels[over].astype(np.uint64) << shift
    big_counts = counts[big]
    thresholds = np.zeros(len(counts), dtype=np.uint64)
    thresholds[big] = np.sort(keys)[np.cumsum(big_counts) - big_counts + max_per_class - 1]
    keep[over] = keys <= thresholds[labels[over]]
    if np.any(np.bincount(labels[keep], minlength=len(counts))[big] != max_per_class):
        keep[over] = _rank_in_class(labels[over], random_keys(over, seed)) < max_per_class
    return np.flatnonzero(keep)


def _rank_in_class(labels: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Rank of every key among the keys of its class (exact; used when truncated keys tie)."""
    order = np.argsort(keys, kind='stable')
    order = order[np.argsort(labels[order], kind='stable')]
    counts = np.bincount(labels)
    counts = counts[counts > 0]
    rank = np.empty(len(labels), dtype=np.int64)
    rank[order] = np.arange(len(labels)) - np.repeat(np.cumsum(counts) - counts, counts)
    return rank


def count_summary(counts: np.ndarray) -> str:
    """One line describing per-class counts: totals, min / median / max, imbalance ratio."""
    counts = np.asarray(counts)
    present = counts[counts > 0]
    if len(present) == 0:
        return f'0 images in 0 / {len(counts)} classes'
    return (f'{int(present.sum())} images in {len(present)} / {len(counts)} classes, '
            f'per class min {int(present.min())} / median {float(np.median(present)):g} / '
            f'max {int(present.max())}, imbalance ratio {present.max() / present.min():.1f}')


def counts_message(name: str, counts: np.ndarray, counts_before_cap: np.ndarray,
                   max_per_class: Optional[int], cap_seed: int) -> str:
    """The line a dataset logs at start-up: its per-class counts, before and after capping.

    Args:
        name (str): The dataset, e.g. ``"AliProductsDataset('train', train.json)"``.
        counts (np.ndarray): Images per class after capping.
        counts_before_cap (np.ndarray): Images per class in the annotation.
        max_per_class (int, optional): The cap, or None when not capped.
        cap_seed (int): The capping seed.
    """
    if max_per_class is None:
        return f'{name}: {count_summary(counts)}'
    before = int(counts_before_cap.sum())
    removed = before - int(counts.sum())
    return (f'{name}: capped at {max_per_class} images per class (cap_seed={cap_seed}); '
            f'before: {count_summary(counts_before_cap)}; after: {count_summary(counts)}; '
            f'removed {removed} ({100.0 * removed / before:.1f}%)')
