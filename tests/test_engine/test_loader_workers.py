"""The tools stop persistent DataLoader workers themselves (PyTorch waits 5 s each at exit);
workers leave group signals (SIGTERM / SIGUSR1) to the main process."""
import os
import signal
import subprocess
import time
import types

import torch
from torch.utils.data import DataLoader, TensorDataset

from aliprod_plugins.engine import leave_signals_to_main, shutdown_loader_workers, shutdown_workers


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


def test_the_test_loop_loader_is_shut_down_too():
    test = persistent_loader()
    workers = list(test._iterator._workers)
    runner = types.SimpleNamespace(_train_loop=None, _val_loop=None,
                                   _test_loop=types.SimpleNamespace(dataloader=test))
    assert shutdown_loader_workers(runner) == 1
    assert not any(w.is_alive() for w in workers)


class _Pids(torch.utils.data.Dataset):
    def __len__(self) -> int:
        return 4

    def __getitem__(self, i: int) -> int:
        return os.getpid()


def test_workers_leave_group_signals_to_the_main_process(tmp_path):
    loader = DataLoader(_Pids(), batch_size=2, num_workers=2, persistent_workers=True)
    assert leave_signals_to_main(loader, ('SIGTERM', 'SIGUSR1'))
    assert not leave_signals_to_main(loader, ('SIGTERM', 'SIGUSR1'))  # wrapped once
    pids = sorted({int(p) for batch in loader for p in batch})
    assert len(pids) == 2
    workers = list(loader._iterator._workers)
    # as Slurm / systemd / `kill -- -PGID` send them: from another process
    subprocess.run(['kill', '-TERM', str(pids[0])], check=True)
    subprocess.run(['kill', '-USR1', str(pids[1])], check=True)
    os.kill(pids[1], signal.SIGUSR1)  # and SIGUSR1 from the main process
    time.sleep(0.5)  # time for a worker to die, if it were going to
    assert all(w.is_alive() for w in workers)
    assert sorted({int(p) for batch in loader for p in batch}) == pids  # same workers serve
    os.kill(pids[0], signal.SIGTERM)  # the main process can still end a worker
    workers[0].join(timeout=10)
    assert workers[0].exitcode == 0
    shutdown_workers(loader)


def test_a_loader_without_workers_is_left_alone():
    loader = DataLoader(_Pids(), batch_size=2)
    assert not leave_signals_to_main(loader, ('SIGTERM', ))
    assert loader.worker_init_fn is None
