"""Shared fixtures: small generated data roots and the tools' command line."""
import importlib.util
import os
import os.path as osp
import socket
import subprocess
import sys

import pytest

# The suite is a CPU suite (CI has no GPU): its tolerances, bit-exact resume checks and
# two-process gloo runs assume CPU kernels. On an H200 machine with the GPU visible, 14 tests
# failed, among them the two-process runs, the bit-exact resume checks and the infer scores
# compared with the CPU inferencer at 2e-6 (tracebacks not captured). So the suite hides the
# GPUs from itself and from the tools it spawns, before anything initialises CUDA;
# ALIPROD_TEST_GPU=1 keeps them visible.
if os.environ.get('ALIPROD_TEST_GPU') != '1':
    os.environ['CUDA_VISIBLE_DEVICES'] = ''

from aliprod_plugins.testing import make_aliproducts_root  # noqa: E402

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))


@pytest.fixture(scope='session')
def tiny_root(tmp_path_factory) -> str:
    """A 4-class AliProducts-layout root: long-tailed train split, 3 val images per class."""
    root = tmp_path_factory.mktemp('tiny_aliproducts')
    return make_aliproducts_root(str(root), train_counts=[12, 8, 5, 3], val_counts=[3] * 4,
                                 num_test=6, size=(36, 40))


def load_tool(name: str):
    """``tools/<name>.py`` imported as a module (its functions then run in this process)."""
    spec = importlib.util.spec_from_file_location(f'aliprod_tools_{name}',
                                                  osp.join(REPO_ROOT, 'tools', f'{name}.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def free_port() -> int:
    """A TCP port that is free now (tests run in parallel: never a fixed port)."""
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def tool_env() -> dict:
    """Environment for running the tools as subprocesses: one thread, repo importable.

    ``PORT`` / ``MASTER_PORT`` (read by ``tools/dist_*.sh`` and torchrun) are a free port, so
    that distributed tests running at the same time on other pytest-xdist workers never meet.
    """
    env = dict(os.environ)
    env.update(OMP_NUM_THREADS='1', MKL_NUM_THREADS='1', PYTHONUNBUFFERED='1')
    port = str(free_port())
    env.update(PORT=port, MASTER_PORT=port)
    env['PYTHONPATH'] = REPO_ROOT + os.pathsep + env.get('PYTHONPATH', '')
    env['PATH'] = osp.dirname(sys.executable) + os.pathsep + env.get('PATH', '')
    env['PYTHON'] = sys.executable
    return env


def run_tool(args, cwd=None, timeout=300, check=True) -> subprocess.CompletedProcess:
    """Run ``args`` (a list) with the test's Python environment and capture its output."""
    proc = subprocess.run(args, cwd=cwd or REPO_ROOT, env=tool_env(), capture_output=True,
                          text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f'{args} exited {proc.returncode}\nSTDOUT:\n{proc.stdout[-6000:]}'
                             f'\nSTDERR:\n{proc.stderr[-6000:]}')
    return proc


def demo_overrides(data_root: str, num_classes: int = 4, max_epochs: int = 2) -> list:
    """``--cfg-options`` that point a demo config at a tiny generated root and shorten it."""
    opts = [
        f'train_cfg.max_epochs={max_epochs}', 'train_cfg.val_interval=1',
        f'model.head.num_classes={num_classes}', f'data_preprocessor.num_classes={num_classes}',
        'default_hooks.checkpoint.interval=1', 'default_hooks.logger.interval=1',
        'randomness.seed=0',
    ]
    for split in ('train', 'val', 'test'):
        opts += [f'{split}_dataloader.dataset.data_root={data_root}',
                 f'{split}_dataloader.dataset.num_classes={num_classes}',
                 f'{split}_dataloader.num_workers=0',
                 f'{split}_dataloader.persistent_workers=False',
                 f'{split}_dataloader.batch_size=4']
    return opts


def _gloo_entry(target, rank: int, world_size: int, port: int, queue, args: tuple) -> None:
    import torch.distributed as dist
    dist.init_process_group('gloo', init_method=f'tcp://127.0.0.1:{port}', rank=rank,
                            world_size=world_size)
    try:
        queue.put((rank, target(rank, world_size, *args)))
    finally:
        dist.destroy_process_group()


def run_gloo_ranks(target, world_size: int = 2, args: tuple = (), timeout: int = 60) -> dict:
    """Run ``target(rank, world_size, *args)`` in forked processes of one gloo group.

    Returns:
        dict: ``{rank: what target returned}``; every process must exit with 0.
    """
    import multiprocessing
    port = free_port()
    ctx = multiprocessing.get_context('fork')
    queue = ctx.Queue()
    procs = [ctx.Process(target=_gloo_entry, args=(target, r, world_size, port, queue, args))
             for r in range(world_size)]
    for proc in procs:
        proc.start()
    results = dict(queue.get(timeout=timeout) for _ in procs)
    for proc in procs:
        proc.join(timeout=timeout)
        assert proc.exitcode == 0
    return results


#: What a launcher exports; a test that leaves one of them changed makes every tool that later
#: tests start in the same worker believe it is another rank (no log on stdout, no cleanup).
DIST_ENV = ('LOCAL_RANK', 'RANK', 'WORLD_SIZE', 'LOCAL_WORLD_SIZE', 'MASTER_ADDR',
            'MASTER_PORT')


@pytest.fixture(autouse=True)
def _no_distributed_env_leak():
    """Fail the test that leaves a launcher variable changed in this process (and restore it)."""
    before = {k: os.environ.get(k) for k in DIST_ENV}
    yield
    changed = {k: (v, os.environ.get(k)) for k, v in before.items() if os.environ.get(k) != v}
    for name, (old, _) in changed.items():
        if old is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = old
    if changed:
        pytest.fail(f'the test left launcher variables changed (before, after): {changed}')
