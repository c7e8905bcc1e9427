"""A training set smaller than one batch per rank stops with our error, not zero iterations."""
import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from aliprod_plugins.engine.resumable_loop import ResumableEpochBasedTrainLoop


def _loop_with(loader: DataLoader) -> ResumableEpochBasedTrainLoop:
    # the check runs before any hook or runner call, so no runner is needed
    loop = object.__new__(ResumableEpochBasedTrainLoop)
    loop.dataloader = loader
    return loop


def test_fewer_samples_than_a_batch_is_refused():
    loader = DataLoader(TensorDataset(torch.zeros(5, 1)), batch_size=8, drop_last=True)
    with pytest.raises(ValueError, match=r'expected at least batch_size=8 .* got 5'):
        _loop_with(loader).run()


def test_one_full_batch_passes_the_check():
    loader = DataLoader(TensorDataset(torch.zeros(8, 1)), batch_size=8, drop_last=True)
    loop = _loop_with(loader)
    # past the check, the loop needs its runner: reaching it proves the check let it through
    with pytest.raises(AttributeError, match='runner'):
        loop.run()
