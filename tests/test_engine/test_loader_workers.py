"""The tools stop persistent DataLoader workers themselves (PyTorch waits 5 s each at exit)."""
import types

import torch
from torch.utils.data import DataLoader, TensorDataset

from aliprod_plugins.engine import shutdown_loader_workers, shutdown_workers


def persistent_loader(workers: int = 2) -> DataLoader:
    loader = DataLoader(TensorDataset(torch.arange(8.)), batch_size=4, num_workers=workers,
                        persistent_workers=workers > 0)
    for _ in loader:  # start the workers
        pass
    return loader


def test_runner_loaders_are_shut_down():
    train, val = persistent_loader(), persistent_loader()
    # held here, so that dropping the loaders' references alone (the iterator's __del__) does
    # not stop them: the function must
    iterators = [train._iterator, val._iterator]
    train_workers, val_workers = list(iterators[0]._workers), list(iterators[1]._workers)
    assert all(w.is_alive() for w in train_workers + val_workers)
    runner = types.SimpleNamespace(
        _train_loop=types.SimpleNamespace(dataloader=train),
        _val_loop=types.SimpleNamespace(dataloader=val),
        _test_loop=dict(type='TestLoop'))  # never built: a config dict, left alone
    assert shutdown_loader_workers(runner) == 2
    assert not any(w.is_alive() for w in train_workers + val_workers)
    assert train._iterator is None and val._iterator is None
    assert shutdown_loader_workers(runner) == 0  # twice is harmless
    assert torch.cat([x for (x, ) in train]).tolist() == list(range(8))  # still usable


def test_loader_without_workers_is_skipped():
    assert not shutdown_workers(persistent_loader(workers=0))
    assert not shutdown_workers(None)
