"""--resume: the checkpoint is verified, a bad one is reported and the newest good one taken."""
import logging
import os
import os.path as osp
import shutil

import pytest
import torch
from mmengine.config import Config
from toy_runner import toy_runner

from aliprod_plugins.engine import safe_load
from aliprod_plugins.engine.resume import ResumeError, apply_resume, resolve_resume


@pytest.fixture(scope='module')
def trained(tmp_path_factory) -> str:
    """A work dir with real MMEngine checkpoints epoch_1..3 (4 iterations per epoch)."""
    work_dir = str(tmp_path_factory.mktemp('trained'))
    toy_runner(work_dir, max_epochs=3, max_keep_ckpts=3, name='resume').train()
    return work_dir


@pytest.fixture
def work_dir(trained, tmp_path) -> str:
    """A copy of ``trained`` whose ``last_checkpoint`` names its own epoch_3.pth."""
    dst = str(tmp_path / 'work')
    os.makedirs(dst)
    for i in (1, 2, 3):
        shutil.copy(osp.join(trained, f'epoch_{i}.pth'), dst)
    _point(dst, osp.join(dst, 'epoch_3.pth'))
    return dst


def _point(work_dir: str, text: str) -> None:
    with open(osp.join(work_dir, 'last_checkpoint'), 'w') as f:
        f.write(text)


def _truncate(path: str) -> None:
    data = open(path, 'rb').read()
    with open(path, 'wb') as f:
        f.write(data[:len(data) // 2])


def _warnings(plan) -> str:
    return '\n'.join(msg for level, msg in plan.notes if level >= logging.WARNING)


def test_the_checkpoint_last_checkpoint_names_is_taken(work_dir):
    plan = resolve_resume(work_dir, 'auto')
    assert plan.path == osp.join(work_dir, 'epoch_3.pth')
    assert _warnings(plan) == ''


def test_a_truncated_checkpoint_is_reported_and_the_newest_good_one_taken(work_dir):
    bad = osp.join(work_dir, 'epoch_3.pth')
    _truncate(bad)
    plan = resolve_resume(work_dir, 'auto')
    assert plan.path == osp.join(work_dir, 'epoch_2.pth')
    warned = _warnings(plan)
    assert bad in warned and 'truncated or corrupt' in warned
    assert '8 iterations done; continues with epoch 3, batch 1' in warned


def test_newest_means_most_trained_whatever_the_name_or_modification_time(work_dir):
    # a preemption checkpoint in the middle of epoch 3, written (per mtime) long ago
    ckpt = safe_load(osp.join(work_dir, 'epoch_2.pth'))
    ckpt['meta'].update(epoch=2, iter=10)
    mid = osp.join(work_dir, 'iter_10.pth')
    torch.save(ckpt, mid)
    os.utime(mid, (1_000_000, 1_000_000))
    junk = osp.join(work_dir, 'epoch_9.pth')  # newest by name and mtime, but garbage
    with open(junk, 'wb') as f:
        f.write(b'PK\x03\x04 not really a zip')
    os.remove(osp.join(work_dir, 'epoch_3.pth'))  # named by last_checkpoint, gone
    plan = resolve_resume(work_dir, 'auto')
    assert plan.path == mid
    warned = _warnings(plan)
    assert 'epoch_3.pth' in warned and 'does not exist' in warned
    assert junk in warned


def test_a_junk_file_anywhere_is_skipped_with_its_path_and_reason(work_dir):
    junk = osp.join(work_dir, 'epoch_4.pth')  # 3 bytes: the unpickler fails with IndexError
    with open(junk, 'wb') as f:
        f.write(b'abc')
    _point(work_dir, junk)
    plan = resolve_resume(work_dir, 'auto')
    assert plan.path == osp.join(work_dir, 'epoch_3.pth')
    warned = _warnings(plan)
    assert f'names {junk}, which cannot be resumed from' in warned
    assert '(3 bytes) does not load' in warned and 'IndexError' in warned
    os.remove(osp.join(work_dir, 'last_checkpoint'))  # as a candidate of the fallback
    plan = resolve_resume(work_dir, 'auto')
    assert plan.path == osp.join(work_dir, 'epoch_3.pth')
    assert f'Skipping {junk}: checkpoint {junk!r} (3 bytes) does not load' in _warnings(plan)


def test_a_config_with_resume_true_and_load_from_resumes_that_checkpoint(work_dir):
    # not the newest of the work dir (epoch_3.pth, named by last_checkpoint)
    path = osp.join(work_dir, 'epoch_1.pth')
    cfg = Config(dict(work_dir=work_dir, resume=True, load_from=path))
    plan = apply_resume(cfg, None)
    assert plan.path == path and cfg.resume is True and cfg.load_from == path
    cfg = Config(dict(work_dir=work_dir, resume=True, load_from=None))  # resume=True alone
    assert apply_resume(cfg, None).path == osp.join(work_dir, 'epoch_3.pth')


def test_on_a_tie_the_checkpoint_with_the_optimizer_state_wins(work_dir):
    ckpt = safe_load(osp.join(work_dir, 'epoch_3.pth'))
    del ckpt['optimizer']  # as save_best writes best_*.pth: same iteration, no optimizer
    best = osp.join(work_dir, 'best_acc_epoch_3.pth')
    torch.save(ckpt, best)
    os.utime(best, (4_000_000_000, 4_000_000_000))  # and written last
    os.remove(osp.join(work_dir, 'last_checkpoint'))
    assert resolve_resume(work_dir, 'auto').path == osp.join(work_dir, 'epoch_3.pth')


def _resume_with_pointer(work_dir: str, text: str) -> tuple:
    """Where resume='auto' goes once last_checkpoint holds ``text``, and what it warns."""
    _point(work_dir, text)
    plan = resolve_resume(work_dir, 'auto')
    return plan.path, _warnings(plan)


def test_an_empty_or_missing_pointer_falls_back_to_the_newest_checkpoint(work_dir):
    path, warned = _resume_with_pointer(work_dir, '')
    assert path == osp.join(work_dir, 'epoch_3.pth') and 'is empty' in warned
    os.remove(osp.join(work_dir, 'last_checkpoint'))
    assert resolve_resume(work_dir, 'auto').path == osp.join(work_dir, 'epoch_3.pth')


def test_a_moved_work_dir_still_resumes_from_its_own_checkpoint(work_dir):
    # the pointer, not the newest file, decides: it names epoch_2 in the old place
    assert _resume_with_pointer(work_dir, '/nonexistent/old/place/epoch_2.pth') == (
        osp.join(work_dir, 'epoch_2.pth'), '')


def test_nothing_to_resume_says_so_and_keeps_load_from(tmp_path, trained):
    plan = resolve_resume(str(tmp_path), 'auto')
    assert plan.path is None
    assert any('no checkpoint to resume from' in msg for _, msg in plan.notes)
    assert not any('None' in msg for _, msg in plan.notes)
    cfg = Config(dict(work_dir=str(tmp_path), load_from=osp.join(trained, 'epoch_1.pth')))
    apply_resume(cfg, 'auto')
    assert cfg.resume is False and cfg.load_from == osp.join(trained, 'epoch_1.pth')
    cfg = Config(dict(work_dir=trained, load_from='stage1.pth'))
    apply_resume(cfg, 'auto')
    assert cfg.resume is True and cfg.load_from == osp.join(trained, 'epoch_3.pth')


def test_unfinished_temporary_files_are_removed(work_dir):
    tmp = osp.join(work_dir, '.epoch_4.pth.k2j3h4.tmp')
    with open(tmp, 'wb') as f:
        f.write(b'half a checkpoint')
    plan = resolve_resume(work_dir, 'auto')
    assert not osp.exists(tmp)
    assert plan.path == osp.join(work_dir, 'epoch_3.pth')


class _Payload:

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f'touch {self.marker}', ))


@pytest.mark.parametrize('damage,message', [
    ('missing', 'does not exist'),
    ('empty', 'is empty (0 bytes)'),
    ('truncated', 'truncated or corrupt'),
    ('weights_only', "lacks meta, message_hub"),
    ('crafted', 'refusing to load'),
    ('junk', '(3 bytes) does not load, it is truncated or corrupt: IndexError'),
])
def test_resume_path_with_a_bad_file_stops_naming_the_file(work_dir, tmp_path, damage, message):
    path = osp.join(work_dir, 'epoch_2.pth')
    marker = tmp_path / 'payload_ran'
    if damage == 'missing':
        os.remove(path)
    elif damage == 'empty':
        open(path, 'wb').close()
    elif damage == 'truncated':
        _truncate(path)
    elif damage == 'junk':
        with open(path, 'wb') as f:
            f.write(b'abc')
    elif damage == 'weights_only':
        torch.save(dict(state_dict=safe_load(path)['state_dict']), path)
    else:
        torch.save(dict(meta=_Payload(str(marker)), state_dict={}, message_hub={}), path)
    with pytest.raises(ResumeError) as info:
        resolve_resume(work_dir, path)
    assert path in str(info.value) and message in str(info.value)
    assert not marker.exists()


def test_resume_path_that_loads_is_taken_as_given(work_dir):
    path = osp.join(work_dir, 'epoch_1.pth')
    cfg = Config(dict(work_dir=work_dir, load_from=None))
    plan = apply_resume(cfg, path)
    assert plan.path == path and cfg.resume is True and cfg.load_from == path
