"""The recipe config itself through train.py -> --resume -> test.py on a tiny generated root.

The 50,030-way head is exercised in tests/test_configs (forward + backward); here the head is
set to the tiny root's 4 classes so that checkpoints stay small.
"""
import csv
import json
import os.path as osp

import pytest
from conftest import REPO_ROOT, demo_overrides, run_tool
from test_train_resume_test import val_metrics

CONFIG = osp.join(REPO_ROOT, 'configs', 'aliprod', 'resnest50_stage1.py')


def _overrides(root: str, max_epochs: int) -> list:
    opts = demo_overrides(root, max_epochs=max_epochs)
    return opts + ['train_dataloader.dataset.max_per_class=2'] + [
        f'{split}_dataloader.pin_memory=False' for split in ('train', 'val', 'test')]


def test_stage1_config_trains_resumes_and_tests(tiny_root, tmp_path):
    work_dir = str(tmp_path / 'stage1')
    train = osp.join(REPO_ROOT, 'tools', 'train.py')
    proc = run_tool(['python', train, CONFIG, '--work-dir', work_dir, '--cfg-options',
                     *_overrides(tiny_root, 1)])
    out = proc.stdout + proc.stderr
    assert 'capped at 2 images per class' in out  # head capping of the recipe acts
    assert 'Epoch(train) [1][2/2]' in out  # 4 classes x 2 images / batch 4
    assert osp.isfile(osp.join(work_dir, 'epoch_1.pth'))

    proc = run_tool(['python', train, CONFIG, '--work-dir', work_dir, '--resume',
                     '--cfg-options', *_overrides(tiny_root, 2)])
    out = proc.stdout + proc.stderr
    assert 'resumed epoch: 1' in out and 'Epoch(train) [2][2/2]' in out
    assert 'Epoch(train) [1]' not in out
    assert osp.isfile(osp.join(work_dir, 'epoch_2.pth'))

    logged = val_metrics(out)[2]
    out_json = tmp_path / 'test' / 'metrics.json'
    proc = run_tool(['python', osp.join(REPO_ROOT, 'tools', 'test.py'), CONFIG,
                     osp.join(work_dir, 'epoch_2.pth'), '--work-dir', str(tmp_path / 'test'),
                     '--out', str(out_json), '--cfg-options', *_overrides(tiny_root, 2)])
    # the checkpoint was loaded (a barely trained ResNeSt-50 may predict like a fresh one) and
    # its weights give what the resumed run validated after epoch 2
    assert f'Load checkpoint from {osp.join(work_dir, "epoch_2.pth")}' in proc.stdout + proc.stderr
    tested = json.loads(out_json.read_text())
    # every class has 2 training images after capping: few-shot only, the other groups left out
    for group in ('many_shot_acc', 'medium_shot_acc'):
        assert f'longtail/{group}' not in tested and f'longtail/{group}' not in logged
    assert 'longtail/few_shot_acc' in tested
    assert tested == pytest.approx(logged, abs=1e-4)
    with open(tmp_path / 'test' / 'metrics_per_class.csv') as f:
        assert [r['train_count'] for r in csv.DictReader(f)] == ['2'] * 4
