"""AtomicCheckpointHook, save_checkpoint_atomic and the kept stage-1 model, on a toy Runner."""
import glob
import os
import os.path as osp

import pytest
import torch
from mmengine.evaluator import BaseMetric
from mmengine.hooks import Hook
from toy_runner import toy_runner
from write_faults import Crash, crash_mid_write

from aliprod_plugins.engine import atomic_io, safe_load, save_checkpoint_atomic
from aliprod_plugins.engine.resume import resolve_resume


def _pointer(work_dir) -> str:
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        return f.read()


def _loads(path) -> dict:
    return safe_load(path, map_location='cpu')


def _check_removals(monkeypatch, prefix: str, check) -> list:
    """Run ``check(name)`` before each removal of a file named ``prefix*``; list the names."""
    removed = []
    real_remove = os.remove

    def remove(path):
        name = osp.basename(path)
        if name.startswith(prefix):
            check(name)
            removed.append(name)
        real_remove(path)

    monkeypatch.setattr(os, 'remove', remove)
    return removed


def test_rotation_removes_the_old_checkpoint_only_after_the_new_one_is_in_place(
        tmp_path, monkeypatch):
    work_dir = str(tmp_path)

    def check(name):
        newer = osp.join(work_dir, f'epoch_{int(name[6:-4]) + 1}.pth')
        # at the moment of deletion the next checkpoint is complete and named
        assert _loads(newer)['meta']['epoch'] == int(name[6:-4]) + 1
        assert _pointer(work_dir) == newer

    removed = _check_removals(monkeypatch, 'epoch_', check)
    toy_runner(work_dir, max_epochs=3, max_keep_ckpts=1).train()
    assert removed == ['epoch_1.pth', 'epoch_2.pth']
    assert sorted(glob.glob(osp.join(work_dir, '*.pth'))) == [osp.join(work_dir, 'epoch_3.pth')]
    assert _pointer(work_dir) == osp.join(work_dir, 'epoch_3.pth')


def test_checkpoint_and_pointer_go_through_atomic_writes(tmp_path, monkeypatch):
    written = []
    real = atomic_io.atomic_write_bytes

    def spy(path, data):
        written.append(osp.basename(str(path)))
        real(path, data)

    monkeypatch.setattr(atomic_io, 'atomic_write_bytes', spy)
    toy_runner(str(tmp_path), max_epochs=2).train()
    assert written == ['epoch_1.pth', 'last_checkpoint', 'epoch_2.pth', 'last_checkpoint']


def test_a_crash_while_writing_leaves_the_previous_checkpoint_resumable(tmp_path, monkeypatch):
    work_dir = str(tmp_path)
    # the 3rd binary file: epoch_1.pth, last_checkpoint, then epoch_2.pth
    crash_mid_write(monkeypatch, 'killed mid-write', keep_div=3, binary_open=3)
    with pytest.raises(Crash):
        toy_runner(work_dir, max_epochs=3, max_keep_ckpts=1).train()
    monkeypatch.undo()
    files = sorted(f for f in os.listdir(work_dir)
                   if osp.isfile(osp.join(work_dir, f)) and not f.endswith('.py'))
    assert files == ['epoch_1.pth', 'last_checkpoint']  # no epoch_2.pth, no temporary file
    assert _pointer(work_dir) == osp.join(work_dir, 'epoch_1.pth')
    assert _loads(osp.join(work_dir, 'epoch_1.pth'))['meta']['epoch'] == 1
    assert resolve_resume(work_dir, 'auto').path == osp.join(work_dir, 'epoch_1.pth')


class _MarkCheckpoint(Hook):
    """Adds a key in ``before_save_checkpoint``: proves the Runner's hook path is taken."""

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        checkpoint['meta']['marked_at_iter'] = runner.iter


def test_save_checkpoint_atomic_saves_what_runner_saves_and_points_at_it(tmp_path):
    runner = toy_runner(str(tmp_path), max_epochs=1, custom_hooks=[_MarkCheckpoint()])
    runner.train()  # 4 iterations
    path = save_checkpoint_atomic(runner, 'iter_4.pth', by_epoch=False, meta=dict(iter=4))
    assert path == osp.join(str(tmp_path), 'iter_4.pth')
    ckpt = _loads(path)
    assert ckpt['meta']['iter'] == 4 and ckpt['meta']['epoch'] == 1
    assert ckpt['meta']['marked_at_iter'] == 4
    assert {'state_dict', 'optimizer', 'param_schedulers', 'message_hub'} <= set(ckpt)
    weight = runner.model.linear.weight.detach()
    assert torch.equal(ckpt['state_dict']['linear.weight'], weight)
    assert _pointer(str(tmp_path)) == path
    assert runner.message_hub.get_info('last_ckpt') == path
    with pytest.raises(ValueError, match='file name inside the work dir'):
        save_checkpoint_atomic(runner, '../elsewhere.pth')


class _RecordWeights(Hook):
    priority = 'LOWEST'

    def __init__(self) -> None:
        self.weights = {}

    def after_train_epoch(self, runner) -> None:
        self.weights[runner.epoch] = runner.model.linear.weight.detach().clone()


def test_stage1_final_is_the_model_at_the_switch_and_is_never_rotated_away(tmp_path):
    record = _RecordWeights()
    switch = dict(type='StageSwitchHook', switch_epoch=2, sampler=None, lr=1e-3)
    runner = toy_runner(str(tmp_path), max_epochs=4, max_keep_ckpts=1,
                        custom_hooks=[switch, record])
    runner.train()
    names = sorted(osp.basename(p) for p in glob.glob(osp.join(str(tmp_path), '*.pth')))
    assert names == ['epoch_4.pth', 'stage1_final.pth']
    stage1 = _loads(osp.join(str(tmp_path), 'stage1_final.pth'))
    # the weights after epoch index 1 (the 2nd epoch): the end of stage 1
    assert torch.equal(stage1['state_dict']['linear.weight'], record.weights[1])
    assert not torch.equal(record.weights[1], record.weights[3])
    assert stage1['meta']['epoch'] == 2 and stage1['meta']['iter'] == 8
    assert stage1['meta']['stage_switch'] == dict(switch_epoch=2, applied=False)
    # a resume from it continues at epoch 3 in stage 1's state (lr of stage 1, not 1e-3)
    assert stage1['optimizer']['param_groups'][0]['lr'] != pytest.approx(1e-3)


class _ScriptedMetric(BaseMetric):
    """Reports the next of ``values`` as ``acc`` at each validation."""

    def __init__(self, values) -> None:
        super().__init__()
        self.values = list(values)

    def process(self, data_batch, data_samples) -> None:
        self.results.append(0)

    def compute_metrics(self, results) -> dict:
        return dict(acc=self.values.pop(0))


def test_save_best_removes_the_previous_best_only_after_the_new_one_is_saved(
        tmp_path, monkeypatch):
    work_dir = str(tmp_path)

    def check(name):
        assert _loads(osp.join(work_dir, 'best_acc_epoch_3.pth'))['meta']['epoch'] == 3

    removed = _check_removals(monkeypatch, 'best_', check)
    runner = toy_runner(work_dir, max_epochs=3, max_keep_ckpts=1,
                        checkpoint=dict(save_best='acc', rule='greater'),
                        metric=_ScriptedMetric([1.0, 0.5, 2.0]))
    runner.train()
    assert removed == ['best_acc_epoch_1.pth']
    names = sorted(osp.basename(p) for p in glob.glob(osp.join(work_dir, '*.pth')))
    assert names == ['best_acc_epoch_3.pth', 'epoch_3.pth']


@pytest.mark.parametrize('max_keep_ckpts', [1, -1])
def test_epoch_checkpoint_removes_the_preemption_snapshots_it_supersedes(tmp_path,
                                                                         max_keep_ckpts):
    # 4 iterations per epoch: epoch_1.pth is the model after iteration 4
    names = ['iter_3.pth', 'iter_4.pth', 'iter_5.pth', 'iter_4_copy.pth', 'iter_2.pth.tmp']
    for name in names:
        (tmp_path / name).write_bytes(b'snapshot')
    toy_runner(str(tmp_path), max_epochs=1, max_keep_ckpts=max_keep_ckpts).train()
    left = sorted(p.name for p in tmp_path.iterdir() if p.name.startswith('iter_'))
    if max_keep_ckpts > 0:  # rotating: the superseded snapshots go, later and other files stay
        assert left == ['iter_2.pth.tmp', 'iter_4_copy.pth', 'iter_5.pth']
    else:  # keeping every checkpoint: every snapshot too
        assert left == sorted(names)
    assert _pointer(str(tmp_path)) == osp.join(str(tmp_path), 'epoch_1.pth')
