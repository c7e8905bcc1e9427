"""Tau-normalisation and logit adjustment: the maths, then tools/tau_norm.py end to end."""
import csv
import json
import os.path as osp
import runpy
import sys

import numpy as np
import pytest
import torch
from conftest import REPO_ROOT
from mmengine.config import Config
from mmpretrain.registry import DATASETS, MODELS
from mmpretrain.structures import DataSample
from test_test_tool import TINY_CONFIG

from aliprod_plugins.engine import safe_load
from aliprod_plugins.evaluation.calibration import (best_index, calibrated_head, predict_topk,
                                                    sweep, tau_normalized_weight)


def test_tau_zero_reproduces_the_original_predictions_without_bias():
    gen = torch.Generator().manual_seed(0)
    feats, weight = torch.randn(200, 16, generator=gen), torch.randn(30, 16, generator=gen)
    bias = torch.randn(30, generator=gen)
    w, b = calibrated_head(weight, bias, 0.0, 'tau_norm')
    assert torch.equal(w, weight) and not b.any()
    expected = torch.topk(feats @ weight.t(), 5).indices.numpy()
    np.testing.assert_array_equal(predict_topk(feats, w, b, 5, chunk_elems=90), expected)
    unit = tau_normalized_weight(weight, 1.0)
    torch.testing.assert_close(unit.norm(dim=1), torch.ones(30))


def test_tau_sweep_picks_the_tau_that_fixes_a_head_biased_classifier():
    # class 0 (head) has a 10x larger weight norm than class 1 (tail)
    weight = torch.tensor([[10.0, 0.0], [0.0, 1.0]])
    feats = torch.tensor([[1.0, 0.2], [1.0, 0.5], [0.5, 1.0], [0.4, 1.0]])
    gt = np.array([0, 0, 1, 1])
    # tau <= 0.5: tail samples go to the head; tau=1: all right; tau >= 1.5: head samples go
    # to the tail
    rows = sweep(feats, gt, weight, None, [0.0, 0.5, 1.0, 1.5, 2.0], topk=(1, ),
                 train_counts=np.array([500, 5]))
    accs = [r['metrics']['mean_class_acc'] for r in rows]
    assert accs == [50.0, 50.0, 100.0, 75.0, 50.0]
    assert rows[best_index(rows)]['tau'] == 1.0
    assert rows[2]['metrics']['few_shot_acc'] == 100.0 and rows[0]['metrics']['few_shot_acc'] == 0


def test_logit_adjustment_subtracts_tau_log_prior():
    counts = np.array([90, 10, 0])  # the empty class counts as one image
    weight, bias = torch.eye(3), torch.tensor([1.0, 2.0, 3.0])
    _, b = calibrated_head(weight, bias, 0.5, 'logit_adjust', counts)
    prior = np.array([90, 10, 1]) / 101
    np.testing.assert_allclose(b.numpy(), bias.numpy() - 0.5 * np.log(prior), rtol=1e-6)
    # a head-favouring bias is cancelled at tau=1 on this constructed case
    feats = torch.tensor([[0.0, 0.1, 0.0], [0.2, 0.0, 0.0], [0.0, 0.0, 0.1]])
    rows = sweep(feats, np.array([1, 0, 2]), weight, torch.tensor(np.log(prior)).float(),
                 [0.0, 1.0], mode='logit_adjust', train_counts=counts, topk=(1, ))
    assert [r['metrics']['top1'] for r in rows] == pytest.approx([100 / 3, 100.0])
    with pytest.raises(ValueError, match='needs the training class counts'):
        calibrated_head(weight, bias, 1.0, 'logit_adjust', None)
    with pytest.raises(ValueError, match="mode must be one of"):
        calibrated_head(weight, bias, 1.0, 'tau')


def test_tool_writes_table_checkpoint_and_per_class_csv(tmp_path, tiny_root, monkeypatch,
                                                        capsys):
    cfg_path = tmp_path / 'tiny.py'
    cfg_path.write_text(TINY_CONFIG.replace('{root}', tiny_root))
    torch.manual_seed(0)
    model = MODELS.build(Config.fromfile(str(cfg_path)).model)
    with torch.no_grad():
        model.head.fc.weight.mul_(torch.tensor([4.0, 1.0, 0.5, 2.0])[:, None])
        model.head.fc.bias.zero_()  # so that tau=0 equals the original model
    ckpt = str(tmp_path / 'epoch_1.pth')
    torch.save({'state_dict': model.state_dict(), 'meta': {'epoch': 1}}, ckpt)
    out = tmp_path / 'tau'
    monkeypatch.setattr(sys, 'argv', ['tau_norm.py', str(cfg_path), ckpt, '--taus', '0', '1',
                                      '--out-dir', str(out)])
    runpy.run_path(osp.join(REPO_ROOT, 'tools', 'tau_norm.py'), run_name='__main__')
    printed = capsys.readouterr().out
    assert 'original' in printed and 'best tau by mean_class_acc' in printed

    # the files and their layout; which tau wins is tested on a case known in advance below
    summary = json.loads((out / 'sweep.json').read_text())
    assert [r['tau'] for r in summary['sweep']] == [0.0, 1.0]
    chosen = json.loads((out / 'best.json').read_text())
    assert chosen['tau'] == summary['best_tau'] and chosen['checkpoint'] == summary['checkpoint']
    assert osp.isfile(summary['checkpoint'])
    with open(out / 'sweep.csv') as f:
        assert [r['tau'] for r in csv.DictReader(f)] == ['0', '1']
    with open(out / 'best_per_class.csv') as f:
        rows = list(csv.DictReader(f))
    assert [r['train_count'] for r in rows] == ['12', '8', '5', '3']  # tiny_root's counts
    assert [r['eval_count'] for r in rows] == ['3', '3', '3', '3']


# A case whose right tau is known in advance: the classifier inputs are the dataset's 2-d
# points (identity backbone), the head is W = [[10, 0], [0, 1]], b = [.5, 0], training counts
# [500, 5]. tau-normalisation, W / ||W||^tau without bias, scores 10^(1-tau) x0 for class 0
# against x1 for class 1: only tau = 1 puts the head points (1, .15), (1, .2) in class 0 and the
# tail points (.9, 1), (.8, 1) in class 1. Logit adjustment scores 10 x0 + .5 - tau log(500/505)
# against x1 - tau log(5/505): the tail points need tau > (9 + .5 - 1) / log(100) = 1.85 and
# the head points keep class 0 while tau < (10 + .5 - .2) / log(100) = 2.24: only tau = 2.
POINTS = [[1.0, 0.15], [1.0, 0.2], [0.9, 1.0], [0.8, 1.0]]
TAUS = ['0', '0.5', '1', '2', '3']


@DATASETS.register_module(force=True)
class TauPointsDataset:
    """The four labelled points above, as a dataset of 2-d inputs."""

    metainfo = dict(classes=('00000', '00001'))

    def __len__(self):
        return len(POINTS)

    def __getitem__(self, idx):
        sample = DataSample().set_gt_label(int(idx >= 2))
        return dict(inputs=torch.tensor(POINTS[idx]), data_samples=sample)


@MODELS.register_module(force=True)
class IdentityBackbone(torch.nn.Module):

    def forward(self, x):
        return (x, )


POINTS_CONFIG = """
default_scope = 'mmpretrain'
model = dict(type='ImageClassifier', backbone=dict(type='IdentityBackbone'),
             head=dict(type='LinearClsHead', num_classes=2, in_channels=2))
data_preprocessor = dict(type='ClsDataPreprocessor', num_classes=2)
val_dataloader = dict(batch_size=3, num_workers=0, dataset=dict(type='TauPointsDataset'),
                      sampler=dict(type='DefaultSampler', shuffle=False),
                      collate_fn=dict(type='default_collate'))
val_evaluator = dict(type='LongTailAccuracy', topk=(1, ))
"""


@pytest.fixture
def points_setup(tmp_path):
    cfg = tmp_path / 'points.py'
    cfg.write_text(POINTS_CONFIG)
    model = MODELS.build(Config.fromfile(str(cfg)).model)
    state = model.state_dict()
    state['head.fc.weight'] = torch.tensor([[10.0, 0.0], [0.0, 1.0]])
    state['head.fc.bias'] = torch.tensor([0.5, 0.0])
    ckpt = tmp_path / 'epoch_3.pth'
    torch.save({'state_dict': state, 'meta': {'epoch': 3}}, str(ckpt))
    counts = tmp_path / 'counts.npy'
    np.save(str(counts), np.array([500, 5]))
    return str(cfg), str(ckpt), str(counts)


def run_tau_norm(monkeypatch, *args):
    monkeypatch.setattr(sys, 'argv', ['tau_norm.py', *[str(a) for a in args]])
    runpy.run_path(osp.join(REPO_ROOT, 'tools', 'tau_norm.py'), run_name='__main__')


@pytest.mark.parametrize('mode,best,accs', [
    ('tau_norm', 1.0, [50.0, 50.0, 100.0, 50.0, 50.0]),
    ('logit_adjust', 2.0, [50.0, 50.0, 50.0, 100.0, 50.0]),
])
def test_tool_finds_the_tau_known_in_advance(points_setup, tmp_path, monkeypatch, mode, best,
                                             accs):
    cfg, ckpt, counts = points_setup
    out = tmp_path / mode
    extra = ['--logit-adjust'] if mode == 'logit_adjust' else []
    run_tau_norm(monkeypatch, cfg, ckpt, '--taus', *TAUS, '--class-counts', counts,
                 '--out-dir', out, '--device', 'cpu', *extra)
    text = (out / 'sweep.json').read_text()
    summary = json.loads(text, parse_constant=lambda c: pytest.fail(f'{c} is not JSON'))
    assert summary['mode'] == mode and summary['best_tau'] == best
    assert [r['mean_class_acc'] for r in summary['sweep']] == accs
    assert summary['original']['mean_class_acc'] == 50.0  # W itself: everything is class 0
    # many-shot = class 0 (500 images), few-shot = class 1 (5); no medium-shot class: null
    assert all(r['medium_shot_acc'] is None for r in summary['sweep'])
    best_row = summary['sweep'][TAUS.index(f'{best:g}')]
    assert (best_row['many_shot_acc'], best_row['few_shot_acc']) == (100.0, 100.0)

    written = safe_load(summary['checkpoint'])
    assert summary['checkpoint'] == str(out / f'epoch_3_{mode}_tau{best:g}.pth')
    assert written['meta'] == dict(epoch=3, calibration=dict(mode=mode, tau=best,
                                                             selected_by='mean_class_acc'))
    head_w, head_b = written['state_dict']['head.fc.weight'], written['state_dict']['head.fc.bias']
    if mode == 'tau_norm':  # W / ||W||^1: unit rows, no bias
        expected_w, expected_b = torch.eye(2), torch.zeros(2)
    else:  # W unchanged, b - 2 log(prior)
        expected_w = torch.tensor([[10.0, 0.0], [0.0, 1.0]])
        expected_b = torch.tensor([0.5, 0.0]) - 2 * torch.log(torch.tensor([500 / 505, 5 / 505]))
    torch.testing.assert_close(head_w, expected_w)
    torch.testing.assert_close(head_b, expected_b)
    # the calibrated head classifies every point right
    logits = torch.tensor(POINTS) @ head_w.t() + head_b
    assert logits.argmax(1).tolist() == [0, 0, 1, 1]


def test_best_index_takes_the_first_of_tied_taus():
    rows = [dict(metrics=dict(mean_class_acc=v)) for v in (50.0, 100.0, float('nan'), 100.0)]
    assert best_index(rows) == 1
