"""tools/test.py end to end: metrics table, --out JSON + per-class CSV, --submission."""
import csv
import json
import os
import os.path as osp
import sys
from types import SimpleNamespace

import pytest
import torch
from conftest import REPO_ROOT, run_tool
from conftest import load_tool as load_tool_module
from mmengine.config import Config
from mmengine.evaluator import Evaluator
from mmpretrain.registry import MODELS

from aliprod_plugins.evaluation import LongTailAccuracy

TINY_CONFIG = """
default_scope = 'mmpretrain'
custom_imports = dict(imports=['aliprod_plugins'], allow_failed_imports=False)
model = dict(
    type='ImageClassifier',
    backbone=dict(type='ResNet_CIFAR', depth=18, stem_channels=8, base_channels=8,
                  out_indices=(3, )),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(type='LinearClsHead', num_classes=4, in_channels=64,
              loss=dict(type='CrossEntropyLoss')))
data_preprocessor = dict(num_classes=4, mean=[127.5] * 3, std=[127.5] * 3, to_rgb=True)
pipeline = [dict(type='LoadImageFromFile'), dict(type='Resize', scale=(16, 16)),
            dict(type='PackInputs')]
train_dataloader = dict(
    batch_size=4, num_workers=0, sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type='CustomDataset', data_root='{root}', data_prefix='train',
                 pipeline=pipeline))
val_dataloader = dict(
    batch_size=5, num_workers=0, sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='CustomDataset', data_root='{root}', data_prefix='val',
                 pipeline=pipeline))
val_evaluator = dict(type='LongTailAccuracy', topk=(1, 2), many_shot_thr=10, few_shot_thr=5)
test_dataloader = val_dataloader
test_evaluator = val_evaluator
optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.01))
train_cfg = dict(by_epoch=True, max_epochs=1)
val_cfg = dict()
test_cfg = dict()
env_cfg = dict(dist_cfg=dict(backend='gloo'))
"""


def write_tiny_setup(tmp_path, root, bias=(0.0, 0.0, 1.0, 0.5)):
    """A tiny config on ``root`` and a checkpoint whose head always ranks classes by ``bias``."""
    cfg_path = tmp_path / 'tiny.py'
    cfg_path.write_text(TINY_CONFIG.replace('{root}', root))
    torch.manual_seed(0)
    model = MODELS.build(Config.fromfile(str(cfg_path)).model)
    with torch.no_grad():
        model.head.fc.weight.zero_()
        model.head.fc.bias.copy_(torch.tensor(bias))
    ckpt = tmp_path / 'tiny.pth'
    torch.save({'state_dict': model.state_dict(), 'meta': {}}, str(ckpt))
    return str(cfg_path), str(ckpt)


def test_labelled_split_table_json_and_per_class_csv(tmp_path, tiny_root):
    cfg, ckpt = write_tiny_setup(tmp_path, tiny_root)
    out = tmp_path / 'res' / 'metrics.json'
    other_cwd = tmp_path / 'elsewhere'
    other_cwd.mkdir()
    proc = run_tool([sys.executable, osp.join(REPO_ROOT, 'tools/test.py'),
                     cfg, ckpt, '--work-dir', str(tmp_path / 'wd'), '--out', str(out)],
                    cwd=str(other_cwd))
    # every sample is predicted class 2 (then 3): val has 3 images of each of 4 classes;
    # train counts [12, 8, 5, 3] with thresholds 10 / 5: many={0}, medium={1, 2}, few={3}
    expected = {'top1': 25.0, 'top2': 50.0, 'top1_error': 75.0, 'mean_class_acc': 25.0,
                'mean_class_error': 75.0, 'many_shot_acc': 0.0, 'medium_shot_acc': 50.0,
                'few_shot_acc': 0.0}
    metrics = json.loads(out.read_text())
    assert metrics == pytest.approx({f'longtail/{k}': v for k, v in expected.items()})
    assert '| longtail/mean_class_error' in proc.stdout
    assert 'challenge score (mean class top-1 error): 0.7500' in proc.stdout
    with open(tmp_path / 'res' / 'metrics_per_class.csv') as f:
        rows = list(csv.reader(f))
    assert rows == [['class_id', 'train_count', 'eval_count', 'top1_acc'],
                    ['00000', '12', '3', '0.0000'], ['00001', '8', '3', '0.0000'],
                    ['00002', '5', '3', '100.0000'], ['00003', '3', '3', '0.0000']]


def test_unlabelled_split_writes_submission_only(tmp_path, tiny_root):
    cfg, ckpt = write_tiny_setup(tmp_path, tiny_root, bias=(0.0, 3.0, 1.0, 0.5))
    sub = tmp_path / 'sub.csv'
    # --amp on CPU runs with bf16 autocast (the README says so); the bias decides here
    proc = run_tool([
        sys.executable, 'tools/test.py', cfg, ckpt, '--work-dir', str(tmp_path / 'wd'), '--amp',
        '--submission', str(sub), '--cfg-options', 'test_dataloader.dataset.data_prefix=test',
        '--cfg-options-new', 'test_dataloader.dataset.with_label=False'])
    with open(sub) as f:
        rows = list(csv.reader(f))
    assert rows[0] == ['id', 'predicted']
    assert sorted(r[0] for r in rows[1:]) == sorted(os.listdir(osp.join(tiny_root, 'test')))
    assert {r[1] for r in rows[1:]} == {'1'}
    assert 'submission/num_images' in proc.stdout and 'longtail' not in proc.stdout


def fake_runner(has_labels):
    dataset = SimpleNamespace(has_labels=has_labels, metainfo={'classes': ('0', '1')})
    loop = SimpleNamespace(dataloader=SimpleNamespace(dataset=dataset),
                           evaluator=Evaluator([LongTailAccuracy()]))
    return SimpleNamespace(test_loop=loop)


def test_evaluator_set_up_for_labelled_and_unlabelled_splits(tmp_path):
    tool = load_tool_module('test')
    with pytest.raises(ValueError, match='has no labels: pass --submission'):
        tool.set_up_evaluator(fake_runner(False), None)
    runner = fake_runner(False)
    tool.set_up_evaluator(runner, str(tmp_path / 's.csv'))
    assert [type(m).__name__ for m in runner.test_loop.evaluator.metrics] == ['SubmissionWriter']
    runner = fake_runner(True)
    tool.set_up_evaluator(runner, str(tmp_path / 's.csv'))
    metrics = runner.test_loop.evaluator.metrics
    assert [type(m).__name__ for m in metrics] == ['LongTailAccuracy', 'SubmissionWriter']
    assert metrics[1].dataset_meta == {'classes': ('0', '1')}


def test_merge_args_adds_the_counts_hook_and_checks_suffixes(tmp_path):
    tool = load_tool_module('test')
    args = SimpleNamespace(out=None, submission=None, launcher='none', work_dir=None,
                           config='x.py', checkpoint='c.pth', amp=False, cfg_options=None,
                           split='test', class_counts='counts.npy', tta=False)
    cfg = Config(dict(test_dataloader=dict(dataset=dict(type='AliProductsDataset')),
                      test_evaluator=[dict(type='LongTailAccuracy')], custom_hooks=[]))
    cfg = tool.merge_args(cfg, args)
    assert cfg.custom_hooks == [dict(type='TrainCountsHook')]
    assert cfg.test_evaluator[0]['class_counts'] == 'counts.npy'
    assert cfg.test_dataloader.dataset.split == 'test'
    with pytest.raises(ValueError, match=r'--out expects a path ending in \.json'):
        tool.merge_args(cfg, SimpleNamespace(**dict(vars(args), out='m.pkl')))


def test_out_json_leaves_out_an_empty_shot_group(tmp_path, capsys, monkeypatch):
    """``--out``: a shot group without classes is left out of the metrics and the JSON."""
    from mmpretrain.structures import DataSample
    tool = load_tool_module('test')
    # training counts 150, 40, 40, 3: many = {0}, medium = {1, 2}, few = {3} ... except that
    # class 0 is not evaluated, so the many-shot group is empty
    metric = LongTailAccuracy(topk=(1, ), class_counts=[150, 40, 40, 3])
    evaluator = Evaluator([metric])
    evaluator.dataset_meta = {'classes': ('00000', '00001', '00002', '00003')}
    scores = torch.tensor([[0., 1, 0, 0], [0., 0, 0, 1], [0., 0, 1, 0], [0., 0, 0, 1]])
    evaluator.process([DataSample().set_gt_label(g).set_pred_score(s)
                       for g, s in zip([1, 1, 2, 3], scores)])
    from mmengine.logging import MMLogger
    logged = []
    monkeypatch.setattr(MMLogger.get_current_instance(), 'info',
                        lambda msg, *a, **k: logged.append(msg))
    metrics = evaluator.evaluate(4)
    assert any('many_shot_acc not reported: no evaluated class' in m for m in logged)
    out = tmp_path / 'new' / 'metrics.json'
    runner = SimpleNamespace(rank=0, test_evaluator=evaluator)
    tool.report(runner, metrics, SimpleNamespace(out=str(out)))
    text = out.read_text()
    assert 'NaN' not in text
    written = json.loads(text, parse_constant=lambda c: pytest.fail(f'{c} is not JSON'))
    assert 'longtail/many_shot_acc' not in written  # no "nan" in the logs either
    # class 1: 1 of 2 right, class 2: right, class 3: right
    assert written == pytest.approx({
        'longtail/top1': 75.0, 'longtail/top1_error': 25.0, 'longtail/mean_class_acc': 250 / 3,
        'longtail/mean_class_error': 100 - 250 / 3,
        'longtail/medium_shot_acc': 75.0, 'longtail/few_shot_acc': 100.0})
    with open(tmp_path / 'new' / 'metrics_per_class.csv') as f:
        accs = [r['top1_acc'] for r in csv.DictReader(f)]
    assert accs == ['', '50.0000', '100.0000', '100.0000']
    printed = capsys.readouterr().out
    assert '| longtail/many_shot_acc' not in printed and 'nan' not in printed
