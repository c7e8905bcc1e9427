"""ProgressivelyBalancedSampler: the schedule from instance- to class-balanced."""
import numpy as np
import pytest
from sampler_testing import chi_square_ok, long_tail_counts, make_dataset

from aliprod_plugins.samplers import ProgressivelyBalancedSampler

COUNTS = long_tail_counts()


def test_schedule_end_points_and_middle():
    dataset = make_dataset(COUNTS)
    sampler = ProgressivelyBalancedSampler(dataset, num_epochs=4, begin_epoch=2, seed=0,
                                           num_samples=30000)
    instance = COUNTS / COUNTS.sum()
    uniform = np.full(COUNTS.size, 1 / COUNTS.size)
    for epoch, alpha in [(0, 0.0), (2, 0.0), (3, 0.25), (4, 0.5), (6, 1.0), (50, 1.0)]:
        np.testing.assert_allclose(sampler.class_probs(epoch),
                                   (1 - alpha) * instance + alpha * uniform)
    for epoch in (3, 4, 6):
        sampler.set_epoch(epoch)
        observed = np.bincount(dataset.labels[list(sampler)], minlength=COUNTS.size)
        assert chi_square_ok(observed, sampler.class_probs(epoch))[0], epoch
        # and rejects the neighbouring epochs' laws
        assert not chi_square_ok(observed, sampler.class_probs(epoch - 2))[0], epoch


def test_first_epoch_is_a_shuffled_pass():
    dataset = make_dataset(COUNTS)
    sampler = ProgressivelyBalancedSampler(dataset, num_epochs=3, seed=0)
    assert sorted(sampler) == list(range(len(dataset)))
    sampler.set_epoch(3)
    assert len(set(sampler)) < len(dataset)  # class-balanced draws repeat tail samples


def test_rank_shares_and_determinism():
    dataset = make_dataset(COUNTS)
    shares = []
    for rank in range(2):
        sampler = ProgressivelyBalancedSampler(dataset, num_epochs=5, seed=4, rank=rank,
                                               world_size=2)
        sampler.set_epoch(2)
        shares.append(list(sampler))
    single = ProgressivelyBalancedSampler(dataset, num_epochs=5, seed=4, world_size=1, rank=0)
    single.set_epoch(2)
    assert len(shares[0]) == len(shares[1]) == -(-len(dataset) // 2)
    padded = np.resize(list(single), 2 * len(shares[0]))
    assert np.stack(shares, 1).reshape(-1).tolist() == padded.tolist()
    assert list(single) != list(ProgressivelyBalancedSampler(dataset, num_epochs=5, seed=4))


def test_errors():
    with pytest.raises(ValueError, match='Sampler: num_epochs expected an int >= 1, got 0'):
        ProgressivelyBalancedSampler(make_dataset(COUNTS), num_epochs=0, seed=0)
    with pytest.raises(ValueError, match='begin_epoch expected an int >= 0, got -1'):
        ProgressivelyBalancedSampler(make_dataset(COUNTS), num_epochs=2, begin_epoch=-1, seed=0)
    # an empty class is fine at epoch 0 but not once class-balanced weight > 0
    with pytest.raises(ValueError, match=r'in epoch 3 to 1 class\(es\) without samples'):
        ProgressivelyBalancedSampler(make_dataset([3, 0, 2]), num_epochs=3, seed=0)
    sampler = ProgressivelyBalancedSampler(make_dataset([3, 0, 2]), num_epochs=3, seed=0,
                                           skip_empty_classes=True, num_samples=200)
    sampler.set_epoch(3)
    assert np.bincount(make_dataset([3, 0, 2]).labels[list(sampler)], minlength=3)[1] == 0
