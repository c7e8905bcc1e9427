"""Per-sample RNG, mid-epoch sampler start and the RNG state kept in checkpoints."""
import pickle
import random

import numpy as np
import pytest
import torch

from aliprod_plugins.engine import (SampleKey, get_rng_state, preserved_rng, safe_load, sample_rng,
                                    set_rng_state)
from aliprod_plugins.samplers import ClassBalancedSampler, InstanceBalancedSampler


class Labels:

    def __init__(self, counts):
        self.labels = np.repeat(np.arange(len(counts)), counts)

    def __len__(self):
        return len(self.labels)

    def get_gt_labels(self):
        return self.labels


def draws():
    return (random.random(), float(np.random.rand()), float(torch.rand(1)))


@pytest.mark.parametrize('cls', [InstanceBalancedSampler, ClassBalancedSampler])
@pytest.mark.parametrize('rank', [0, 1])
def test_set_start_skips_exactly_the_consumed_indices(cls, rank):
    sampler = cls(Labels([9, 5, 2]), seed=3, rank=rank, world_size=2)
    sampler.set_epoch(4)
    full = list(sampler)
    assert len(full) == len(sampler) == 8
    for start in (0, 1, 5, 8):
        sampler.set_start(start)
        assert list(sampler) == full[start:]
    sampler.set_epoch(5)  # a new epoch starts from its beginning
    assert len(list(sampler)) == 8
    with pytest.raises(ValueError, match=r'start expected an int in \[0, 8\], got 9'):
        sampler.set_start(9)


def test_sample_keys_carry_seed_epoch_and_global_position():
    ranks = [InstanceBalancedSampler(Labels([6, 4]), seed=7, rank=r, world_size=2)
             for r in (0, 1)]
    for sampler in ranks:
        sampler.set_epoch(2)
        sampler.sample_keys = True
    keys = [list(s) for s in ranks]
    plain = np.random.default_rng([7, 2]).permutation(10)  # the documented global draw
    for rank, rank_keys in enumerate(keys):
        assert [int(k) for k in rank_keys] == plain[rank::2].tolist()
        assert [k.position for k in rank_keys] == list(range(rank, 10, 2))
        assert {(k.seed, k.epoch) for k in rank_keys} == {(7, 2)}
    ranks[1].set_start(3)
    assert [k.position for k in ranks[1]] == [7, 9]
    # keys cross to DataLoader workers by pickling
    back = pickle.loads(pickle.dumps(keys[0][2]))
    assert (type(back), int(back), back.seed, back.epoch, back.position) == \
        (SampleKey, int(keys[0][2]), 7, 2, 4)


def test_sample_rng_depends_on_the_key_only_and_restores_the_generators():
    key = SampleKey(5, 0, 3, 11)
    random.seed(1)
    np.random.seed(1)
    torch.manual_seed(1)
    with sample_rng(key):
        first = draws()
    after = draws()
    random.seed(99)
    np.random.seed(99)
    torch.manual_seed(99)
    with sample_rng(key):
        assert draws() == first  # whatever ran before (another worker's samples)
    random.seed(1)
    np.random.seed(1)
    torch.manual_seed(1)
    assert draws() == after  # the process's own stream did not move
    for other in (SampleKey(5, 0, 3, 12), SampleKey(5, 0, 4, 11), SampleKey(5, 1, 3, 11)):
        with sample_rng(other):
            assert draws() != first
    with sample_rng(key, attempt=1):
        assert draws() != first
    random.seed(2)
    expected = random.random()
    random.seed(2)
    with sample_rng(5):  # a plain index (validation) leaves the generators alone
        assert random.random() == expected


def test_rng_state_survives_a_weights_only_checkpoint(tmp_path):
    random.seed(4)
    np.random.seed(4)
    torch.manual_seed(4)
    np.random.normal()  # a cached gaussian is part of numpy's state
    path = str(tmp_path / 'ckpt.pth')
    torch.save(dict(meta=dict(iter=3), rng_state=get_rng_state()), path)
    expected = draws() + (float(np.random.normal()), )
    draws()
    set_rng_state(safe_load(path)['rng_state'])
    assert draws() + (float(np.random.normal()), ) == expected
    set_rng_state(safe_load(path)['rng_state'])
    with preserved_rng():  # validation runs like this: the training stream does not move
        draws()
    assert draws() + (float(np.random.normal()), ) == expected
    with pytest.raises(ValueError, match='expected a dict with python, numpy and torch'):
        set_rng_state(dict(torch=torch.get_rng_state()))
