"""tools/train.py end to end: SIGKILL in the middle of a checkpoint save, --resume and the kept
stage-1 model (tiny generated root, the two-stage demo config)."""
import glob
import os.path as osp
import re
import signal

import pytest
from conftest import REPO_ROOT, demo_overrides, run_tool

from aliprod_plugins.engine import safe_load

CONFIG = osp.join(REPO_ROOT, 'configs', 'demo', 'digits_lt_two_stage.py')
KILLER = osp.join(osp.dirname(osp.abspath(__file__)), 'train_killed_mid_save.py')


def _overrides(root: str, max_epochs: int) -> list:
    # stage 2 from epoch index 2; keep one rotated checkpoint
    return demo_overrides(root, max_epochs=max_epochs) + [
        'custom_hooks.0.switch_epoch=2', 'default_hooks.checkpoint.max_keep_ckpts=1']


def _pointer(work_dir: str) -> str:
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        return f.read()


@pytest.fixture(scope='module')
def killed(tiny_root, tmp_path_factory):
    """A run started with --resume in an empty work dir, SIGKILLed while writing epoch_2.pth."""
    work_dir = str(tmp_path_factory.mktemp('killed'))
    env_args = ['env', 'KILL_AT_SAVE=2', 'python', KILLER, CONFIG, '--work-dir', work_dir,
                '--resume', '--cfg-options', *_overrides(tiny_root, 3)]
    proc = run_tool(env_args, check=False)
    return work_dir, proc


def test_sigkill_mid_save_leaves_the_previous_checkpoint_and_pointer(killed):
    work_dir, proc = killed
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-3000:]
    out = proc.stdout + proc.stderr
    assert 'no checkpoint to resume from' in out
    assert 'Auto resumed from the latest checkpoint None' not in out
    assert re.search(r'Epoch\(train\) \[1\]\[7/7\].*nonfinite_steps: 0', out)
    checkpoints = sorted(glob.glob(osp.join(work_dir, '*.pth')))
    assert checkpoints == [osp.join(work_dir, 'epoch_1.pth')]
    assert _pointer(work_dir) == osp.join(work_dir, 'epoch_1.pth')
    assert safe_load(checkpoints[0])['meta']['epoch'] == 1
    # it was killed half-way through epoch_2.pth: the temporary file holds the half written
    assert glob.glob(osp.join(work_dir, '.epoch_2.pth.*.tmp'))


def test_resume_continues_and_keeps_the_stage1_model(killed, tiny_root):
    work_dir, _ = killed
    proc = run_tool(['python', osp.join(REPO_ROOT, 'tools', 'train.py'), CONFIG, '--work-dir',
                     work_dir, '--resume', '--cfg-options', *_overrides(tiny_root, 3)])
    out = proc.stdout + proc.stderr
    assert 'Auto-resuming from ' + osp.join(work_dir, 'epoch_1.pth') in out
    assert 'resumed epoch: 1' in out and 'interrupted save' in out
    assert 'Epoch(train) [2][7/7]' in out and 'Epoch(train) [3][' in out
    assert 'Epoch(train) [1][' not in out
    assert not glob.glob(osp.join(work_dir, '.*.tmp'))
    # epoch_2 was rotated away, the end of stage 1 was not
    names = sorted(osp.basename(p) for p in glob.glob(osp.join(work_dir, '*.pth')))
    assert names == ['epoch_3.pth', 'stage1_final.pth']
    stage1 = safe_load(osp.join(work_dir, 'stage1_final.pth'))
    assert stage1['meta']['epoch'] == 2 and stage1['meta']['iter'] == 14
    assert stage1['meta']['stage_switch']['applied'] is False
    assert _pointer(work_dir) == osp.join(work_dir, 'epoch_3.pth')
