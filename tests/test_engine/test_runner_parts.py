"""The one way each to reach a runner's model, its train sampler and its last checkpoint."""
import torch
from mmengine.registry import MODEL_WRAPPERS
from torch import nn
from torch.utils.data import BatchSampler, DataLoader, SequentialSampler

from aliprod_plugins.engine.atomic_checkpoint import read_last_checkpoint
from aliprod_plugins.engine.runner_parts import train_sampler, unwrap_model


@MODEL_WRAPPERS.register_module(force=True)
class ToyModelWrapper(nn.Module):
    """A registered model wrapper, as ``MMDistributedDataParallel`` is (without a process group)."""

    def __init__(self, module: nn.Module) -> None:
        super().__init__()
        self.module = module


class HoldsAModule(nn.Module):
    """Not a wrapper, though it has a ``module`` attribute: it must not be unwrapped."""

    def __init__(self) -> None:
        super().__init__()
        self.module = nn.Linear(2, 2)


class EmptySampler(torch.utils.data.Sampler):
    """A sampler with no index this epoch (``len() == 0``, so falsy)."""

    def __iter__(self):
        return iter(())

    def __len__(self) -> int:
        return 0


def test_unwrap_model_unwraps_registered_wrappers_only():
    model = nn.Linear(2, 2)
    assert unwrap_model(model) is model
    assert unwrap_model(ToyModelWrapper(model)) is model
    holder = HoldsAModule()
    assert unwrap_model(holder) is holder


def test_train_sampler_is_the_one_that_orders_the_batches():
    data = list(range(6))
    sampler = SequentialSampler(data)
    assert train_sampler(DataLoader(data, sampler=sampler, batch_size=2)) is sampler
    # built with a batch sampler: loader.sampler is an unused default, never the answer
    loader = DataLoader(data, batch_sampler=BatchSampler(sampler, 2, drop_last=False))
    assert loader.sampler is not sampler and train_sampler(loader) is sampler
    empty = EmptySampler()
    loader = DataLoader(data, batch_sampler=BatchSampler(empty, 2, drop_last=False))
    assert train_sampler(loader) is empty  # an empty epoch is still this sampler's
    assert train_sampler(object()) is None


def test_read_last_checkpoint(tmp_path):
    assert read_last_checkpoint(str(tmp_path)) is None
    pointer = tmp_path / 'last_checkpoint'
    pointer.write_text('')
    assert read_last_checkpoint(str(tmp_path)) == ''
    pointer.write_bytes(b'  /runs/a/epoch_3.pth\n')
    assert read_last_checkpoint(str(tmp_path)) == '/runs/a/epoch_3.pth'
    pointer.write_bytes(b'/runs/\xff.pth')  # undecodable: named, not a crash
    assert read_last_checkpoint(str(tmp_path)) == '/runs/\ufffd.pth'
