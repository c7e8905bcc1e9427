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
from mmpretrain.registry import MODELS
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

    summary = json.loads((out / 'sweep.json').read_text())
    assert [r['tau'] for r in summary['sweep']] == [0.0, 1.0]
    assert summary['original'] == {k: v for k, v in summary['sweep'][0].items() if k != 'tau'}
    accs = [r['mean_class_acc'] for r in summary['sweep']]
    best = summary['best_tau']
    assert best == [0.0, 1.0][int(np.argmax(accs))]
    chosen = json.loads((out / 'best.json').read_text())
    assert chosen['tau'] == best and chosen['checkpoint'] == summary['checkpoint']
    assert chosen['metrics']['mean_class_acc'] == max(accs)
    with open(out / 'sweep.csv') as f:
        assert [r['tau'] for r in csv.DictReader(f)] == ['0', '1']
    with open(out / 'best_per_class.csv') as f:
        rows = list(csv.DictReader(f))
    assert [r['train_count'] for r in rows] == ['12', '8', '5', '3']

    written = safe_load(summary['checkpoint'])
    assert written['meta']['calibration'] == dict(mode='tau_norm', tau=best,
                                                  selected_by='mean_class_acc')
    weight = model.head.fc.weight.detach()
    torch.testing.assert_close(written['state_dict']['head.fc.weight'],
                               tau_normalized_weight(weight, best))
    assert not written['state_dict']['head.fc.bias'].any()


def test_model_gets_the_configs_data_preprocessor(tmp_path):
    """The features must be those tools/test.py sees: normalised with the config's mean/std."""
    cfg = Config.fromfile(osp.join(REPO_ROOT, 'configs', 'demo', 'digits_lt_stage1.py'))
    model_cfg = cfg.model.copy()
    model_cfg['data_preprocessor'] = cfg.data_preprocessor
    ckpt = str(tmp_path / 'epoch_1.pth')
    torch.save({'state_dict': MODELS.build(model_cfg).state_dict()}, ckpt)
    tool = runpy.run_path(osp.join(REPO_ROOT, 'tools', 'tau_norm.py'))
    model = tool['build_model'](cfg, ckpt, 'cpu')
    torch.testing.assert_close(model.data_preprocessor.mean.flatten(),
                               torch.tensor(cfg.data_preprocessor.mean))
    torch.testing.assert_close(model.data_preprocessor.std.flatten(),
                               torch.tensor(cfg.data_preprocessor.std))
    assert model.data_preprocessor.to_rgb
