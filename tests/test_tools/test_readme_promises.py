"""A README promise run end to end: tools/dist_test.sh on CPU with ``--split test --submission``
on AliProductsDataset. (``--auto-scale-lr``: test_train_resume_test.py and test_rough_edges.py;
``bad_images`` in every log line: test_on_error_resample.py.)"""
import csv
import json
import os.path as osp
import re

import torch
from conftest import REPO_ROOT, demo_overrides, run_tool
from mmengine.config import Config
from mmpretrain.registry import MODELS

DEMO_STAGE1 = osp.join(REPO_ROOT, 'configs', 'demo', 'digits_lt_stage1.py')


def test_dist_test_on_cpu_writes_the_submission_of_the_test_split(tiny_root, tmp_path):
    # a checkpoint of the demo model (4 classes) whose head always ranks class 2 first
    cfg = Config.fromfile(DEMO_STAGE1)
    cfg.model.head.num_classes = 4
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    state = model.state_dict()
    state['head.fc.weight'].zero_()
    state['head.fc.bias'].copy_(torch.tensor([0.0, 0.5, 2.0, 1.0]))
    ckpt = str(tmp_path / 'epoch_1.pth')
    torch.save({'state_dict': state, 'meta': {}}, ckpt)
    sub = tmp_path / 'out' / 'submission.csv'
    proc = run_tool(['bash', osp.join(REPO_ROOT, 'tools', 'dist_test.sh'), DEMO_STAGE1, ckpt,
                     '2', '--work-dir', str(tmp_path / 'work'), '--split', 'test',
                     '--submission', str(sub), '--cfg-options', *demo_overrides(tiny_root)],
                    cwd=str(tmp_path))
    out = proc.stdout + proc.stderr
    assert 'backend: gloo' in out or "'backend': 'gloo'" in out
    # 6 unlabelled images, 3 per rank, back in test.json's order, written once
    expected = [e['image_id'] for e in json.load(open(osp.join(tiny_root, 'test.json')))['images']]
    with open(sub) as f:
        rows = list(csv.reader(f))
    assert rows == [['id', 'predicted']] + [[image_id, '2'] for image_id in expected]
    assert 'submission/num_images' in out and 'longtail' not in out
    assert len(re.findall(r'submission with 6 predictions written', out)) == 1
