"""Two forked gloo ranks: every rank's RNG state is saved and restored by that rank; only rank 0
writes and rotates checkpoints.

The CUDA generators travel in the same per-rank dict (``get_rng_state()['cuda']``), so the
gather / pick / restore path tested here on CPU is the one a GPU run takes.
"""
import os
import os.path as osp
import random

import numpy as np
import torch
import torch.distributed as dist
from conftest import run_gloo_ranks
from mmengine.hooks import Hook
from toy_runner import toy_runner

from aliprod_plugins.engine import get_rng_state, safe_load, set_rng_state
from aliprod_plugins.engine.rng_state import gather_rng_states, pack_rank_states, rank_rng_state


def _draws() -> list:
    return torch.rand(2).tolist() + [float(np.random.rand()), random.random()]


def _seed(seed: int) -> None:
    torch.manual_seed(seed)
    np.random.seed(seed)
    random.seed(seed)


def _save_and_restore(rank: int, world_size: int, path: str) -> list:
    _seed(100 + rank)
    _draws()  # move the streams away from the seed
    states = gather_rng_states(get_rng_state())
    if rank == 0:
        torch.save(pack_rank_states(states), path)
    dist.barrier()
    _seed(0)  # what a resumed process has before the restore
    state, why = rank_rng_state(safe_load(path), rank, world_size)
    assert why is None
    set_rng_state(state)
    return _draws()


def _expected(rank: int) -> list:
    _seed(100 + rank)
    _draws()
    return _draws()


def test_each_rank_restores_its_own_state(tmp_path):
    path = str(tmp_path / 'rng.pth')
    drawn = run_gloo_ranks(_save_and_restore, 2, (path, ))
    assert drawn == {0: _expected(0), 1: _expected(1)}
    assert drawn[0] != drawn[1]


def test_another_world_size_resumes_with_fresh_states_and_says_why():
    saved = pack_rank_states([get_rng_state(), get_rng_state()])
    state, why = rank_rng_state(saved, 0, 1)
    assert state is None
    assert 'RNG states of 2 rank(s), this run has 1' in why and 'fresh' in why
    state, why = rank_rng_state(saved, 1, 2)
    assert why is None and torch.equal(state['torch'], saved['ranks'][1]['torch'])
    # a checkpoint written before per-rank states: one process's state
    legacy = get_rng_state()
    assert rank_rng_state(legacy, 0, 1)[0] is legacy
    assert rank_rng_state(legacy, 1, 2)[0] is None
    assert 'no RNG state' in rank_rng_state(None, 0, 1)[1]


class _Spy(Hook):
    """Records checkpoint files written / removed by this rank, and its RNG state."""

    priority = 'LOWEST'  # after CheckpointHook's save

    def __init__(self) -> None:
        self.after_save = None
        self.at_start = None

    def before_train_epoch(self, runner) -> None:
        if self.at_start is None:
            self.at_start = torch.get_rng_state().tolist()  # (no tensor through the queue)

    def after_train_epoch(self, runner) -> None:
        self.after_save = torch.get_rng_state().tolist()


def _train_resume_in_two_ranks(rank: int, world_size: int, work_dir: str) -> dict:
    touched = []
    real_replace, real_remove = os.replace, os.remove

    def replace(src, dst, *args, **kwargs):
        touched.append(('write', osp.basename(str(dst))))
        return real_replace(src, dst, *args, **kwargs)

    def remove(path, *args, **kwargs):
        touched.append(('remove', osp.basename(str(path))))
        return real_remove(path, *args, **kwargs)

    os.replace, os.remove = replace, remove  # this forked process only
    loop = dict(type='ResumableEpochBasedTrainLoop')
    random_cfg = dict(seed=0, diff_rank_seed=True)
    first = _Spy()
    toy_runner(work_dir, max_epochs=3, max_keep_ckpts=1, train_cfg=loop, custom_hooks=[first],
               randomness=random_cfg, name=f'ranks_a{rank}').train()
    dist.barrier()
    written = [t for t in touched if t[1].endswith('.pth') or t[1] == 'last_checkpoint']
    resumed = _Spy()
    toy_runner(work_dir, max_epochs=4, max_keep_ckpts=1, train_cfg=loop,
               custom_hooks=[resumed], randomness=random_cfg, name=f'ranks_b{rank}',
               resume=True, load_from=osp.join(work_dir, 'epoch_3.pth')).train()
    os.replace, os.remove = real_replace, real_remove
    return dict(written=written, after_save=first.after_save, restored=resumed.at_start)


def test_each_rank_resumes_its_own_rng_and_only_rank_0_writes_and_rotates(tmp_path):
    work_dir = str(tmp_path)
    result = run_gloo_ranks(_train_resume_in_two_ranks, 2, (work_dir, ), timeout=120)
    # rank 0 wrote every checkpoint and pointer and rotated (max_keep_ckpts=1); rank 1 nothing
    assert result[0]['written'] == [
        ('write', 'epoch_1.pth'), ('write', 'last_checkpoint'),
        ('write', 'epoch_2.pth'), ('write', 'last_checkpoint'), ('remove', 'epoch_1.pth'),
        ('write', 'epoch_3.pth'), ('write', 'last_checkpoint'), ('remove', 'epoch_2.pth')]
    assert result[1]['written'] == []
    # the checkpoint holds each rank's state at the save; each rank resumed its own
    saved = safe_load(osp.join(work_dir, 'epoch_4.pth'))['rng_state']  # (epoch_3 rotated)
    assert saved['world_size'] == 2
    for rank in (0, 1):
        assert result[rank]['restored'] == result[rank]['after_save']
    assert result[0]['after_save'] != result[1]['after_save']
    assert not torch.equal(saved['ranks'][0]['torch'], saved['ranks'][1]['torch'])
