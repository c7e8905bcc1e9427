"""tools/train.py, --resume and tools/test.py end to end on a tiny generated root."""
import csv
import glob
import json
import os
import os.path as osp
import re
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
    # from another directory: the tools resolve their own paths; --auto-scale-lr: batch 4 on
    # one process against the schedule's base batch of 32
    proc = _train(work_dir, tiny_root, '--auto-scale-lr',
                  cwd=str(tmp_path_factory.mktemp('elsewhere')))
    return work_dir, proc


def test_train_writes_checkpoints_and_logs(trained):
    work_dir, proc = trained
    assert osp.isfile(osp.join(work_dir, 'epoch_1.pth'))
    assert osp.isfile(osp.join(work_dir, 'epoch_2.pth'))
    out = proc.stdout + proc.stderr
    assert 'Epoch(train) [2]' in out
    # --auto-scale-lr: lr 0.1 x 4 / 32 in every line (the stage-2 lr stays absolute: see
    # test_rough_edges.py::test_auto_scale_lr_leaves_the_absolute_stage2_lr_alone)
    lrs = re.findall(r'Epoch\(train\)\s+\[\d+\]\[\s*\d+/\d+\].*?\blr: (\S+)', out)
    assert lrs and {float(lr) for lr in lrs} == {0.1 * 4 / 32}
    assert 'MultiScaleDeformableAttention' not in out  # the silenced mmcv-lite warning
    # validation ran with our metric after each epoch
    assert set(val_metrics(out)) == {1, 2}
    assert val_metrics(out)[2]['longtail/top1'] >= 0


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


def val_metrics(log: str) -> dict:
    """``{epoch: {metric: value}}`` of the ``Epoch(val)`` lines of a training log."""
    found = {}
    for epoch, rest in re.findall(r'Epoch\(val\) \[(\d+)\]\[\d+/\d+\]\s+(.*)', log):
        found[int(epoch)] = {k: float(v) for k, v in re.findall(r'(longtail/\w+): (\S+)', rest)}
    return found


def test_test_tool_evaluates_the_checkpoint(trained, tiny_root, tmp_path):
    work_dir, train_proc = trained
    out_json = tmp_path / 'res' / 'epoch_2.json'
    proc = run_tool(['python', osp.join(REPO_ROOT, 'tools', 'test.py'), CONFIG,
                     osp.join(work_dir, 'epoch_2.pth'), '--work-dir', str(tmp_path),
                     '--out', str(out_json), '--cfg-options', *demo_overrides(tiny_root)])
    assert 'UnpicklingError' not in proc.stdout + proc.stderr
    # the checkpoint's weights give the numbers the training run validated after epoch 2
    logged = val_metrics(train_proc.stdout + train_proc.stderr)[2]
    tested = json.loads(out_json.read_text())
    # 12, 8, 5 and 3 training images: no many- or medium-shot class, left out of the JSON and
    # of the log lines (no "nan")
    for group in ('many_shot_acc', 'medium_shot_acc'):
        assert f'longtail/{group}' not in tested and f'longtail/{group}' not in logged
    assert tested == pytest.approx(logged, abs=1e-4)
    # tiny_root: 12, 8, 5, 3 training images (uncapped: the demo caps at 110), 3 val each
    with open(tmp_path / 'res' / 'epoch_2_per_class.csv') as f:
        rows = list(csv.DictReader(f))
    assert [(r['train_count'], r['eval_count']) for r in rows] == [
        ('12', '3'), ('8', '3'), ('5', '3'), ('3', '3')]


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
    # our message names the global (torch's own text, which we append, names it too)
    assert (f'refusing to load checkpoint {evil!r}: it references {os.system.__module__}.system '
            'which is not among the globals') in proc.stderr
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
    # each rank trained on its own shard: 14 of the 28 train samples, 3 full batches of 4
    # (drop_last: the incomplete 4th batch is dropped)
    assert 'Epoch(train) [1][3/3]' in open(logs[0]).read()
