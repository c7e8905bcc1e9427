"""tools/train.py, --resume and tools/test.py end to end on a tiny generated root."""
import glob
import os
import os.path as osp
from collections import OrderedDict

import pytest
import torch

from conftest import REPO_ROOT, demo_overrides, run_tool

CONFIG = osp.join(REPO_ROOT, 'configs', 'demo', 'digits_lt_stage1.py')


def _train(work_dir, data_root, *extra, max_epochs=2, cwd=None):
    return run_tool(['python', osp.join(REPO_ROOT, 'tools', 'train.py'), CONFIG,
                     '--work-dir', work_dir, *extra, '--cfg-options',
                     *demo_overrides(data_root, max_epochs=max_epochs)], cwd=cwd)


@pytest.fixture(scope='module')
def trained(tiny_root, tmp_path_factory):
    work_dir = str(tmp_path_factory.mktemp('train'))
    # from another directory: the tools resolve their own paths
    proc = _train(work_dir, tiny_root, cwd=str(tmp_path_factory.mktemp('elsewhere')))
    return work_dir, proc


def test_train_writes_checkpoints_and_logs(trained):
    work_dir, proc = trained
    assert osp.isfile(osp.join(work_dir, 'epoch_1.pth'))
    assert osp.isfile(osp.join(work_dir, 'epoch_2.pth'))
    out = proc.stdout + proc.stderr
    assert 'Epoch(train) [2]' in out
    assert 'longtail/mean_class_error' in out  # validation ran with our metric


def test_resume_auto_continues_at_the_next_epoch(trained, tiny_root, tmp_path):
    work_dir, _ = trained
    resumed = str(tmp_path / 'resumed')
    os.makedirs(resumed)
    for name in ('epoch_2.pth', 'last_checkpoint'):
        src = osp.join(work_dir, name)
        data = open(src, 'rb').read()
        if name == 'last_checkpoint':
            data = osp.join(resumed, 'epoch_2.pth').encode()
        with open(osp.join(resumed, name), 'wb') as f:
            f.write(data)
    proc = _train(resumed, tiny_root, '--resume', max_epochs=3)
    out = proc.stdout + proc.stderr
    assert 'resumed epoch: 2' in out
    assert 'Epoch(train) [3]' in out
    assert 'Epoch(train) [1]' not in out and 'Epoch(train) [2]' not in out
    ckpt = torch.load(osp.join(resumed, 'epoch_3.pth'), map_location='cpu', weights_only=False)
    assert ckpt['meta']['epoch'] == 3


def test_resume_from_path(trained, tiny_root, tmp_path):
    work_dir, _ = trained
    # --no-validate wins over the val_dataloader overrides of --cfg-options
    proc = _train(str(tmp_path / 'from_path'), tiny_root, '--resume',
                  osp.join(work_dir, 'epoch_1.pth'), '--no-validate')
    out = proc.stdout + proc.stderr
    assert 'resumed epoch: 1' in out
    assert 'Epoch(train) [2]' in out and 'Epoch(train) [1]' not in out
    assert 'Epoch(val)' not in out


def test_test_tool_evaluates_the_checkpoint(trained, tiny_root, tmp_path):
    work_dir, _ = trained
    proc = run_tool(['python', osp.join(REPO_ROOT, 'tools', 'test.py'), CONFIG,
                     osp.join(work_dir, 'epoch_2.pth'), '--work-dir', str(tmp_path),
                     '--cfg-options', *demo_overrides(tiny_root)])
    out = proc.stdout + proc.stderr
    assert 'longtail/top1' in out
    assert 'UnpicklingError' not in out


class _Payload:

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f'touch {self.marker}', ))


def test_test_tool_refuses_a_crafted_checkpoint(tiny_root, tmp_path):
    marker = tmp_path / 'payload_ran'
    evil = str(tmp_path / 'evil.pth')
    torch.save(dict(state_dict=OrderedDict(), meta=_Payload(str(marker))), evil)
    proc = run_tool(['python', osp.join(REPO_ROOT, 'tools', 'test.py'), CONFIG, evil,
                     '--work-dir', str(tmp_path / 'w'), '--cfg-options',
                     *demo_overrides(tiny_root)], check=False)
    assert proc.returncode != 0
    assert 'refusing to load checkpoint' in proc.stderr
    assert 'posix.system' in proc.stderr
    assert not marker.exists()


def test_dist_train_two_processes_on_cpu(tiny_root, tmp_path):
    work_dir = str(tmp_path / 'dist')
    proc = run_tool(['bash', osp.join(REPO_ROOT, 'tools', 'dist_train.sh'), CONFIG, '2',
                     '--work-dir', work_dir, '--cfg-options',
                     *demo_overrides(tiny_root, max_epochs=1)],
                    cwd=str(tmp_path))
    out = proc.stdout + proc.stderr
    assert 'Distributed launcher: pytorch' in out or "'launcher': 'pytorch'" in out \
        or 'launcher = \'pytorch\'' in out
    assert 'backend: gloo' in out or "'backend': 'gloo'" in out
    # checkpoints and the log written once (rank 0)
    assert sorted(osp.basename(p) for p in glob.glob(osp.join(work_dir, '*.pth'))) == \
        ['epoch_1.pth']
    logs = glob.glob(osp.join(work_dir, '*', '*.log'))
    assert len(logs) == 1, logs
    # each rank trained on its own shard: 28 train samples / (2 ranks x batch 4) = 4 iters
    assert 'Epoch(train) [1][4/4]' in open(logs[0]).read()
