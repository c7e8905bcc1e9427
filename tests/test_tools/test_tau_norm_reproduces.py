"""tools/tau_norm.py reports what tools/test.py measures: on the input checkpoint ("original")
and on the checkpoint it writes, for a plain LinearClsHead and for an LWSHead (scales folded)."""
import json
import math
import os.path as osp
import runpy
import sys
import uuid

import pytest
import torch
from conftest import REPO_ROOT
from mmengine.config import Config
from mmpretrain.registry import MODELS
from test_test_tool import TINY_CONFIG

import aliprod_plugins  # noqa: F401  registration
from aliprod_plugins.engine import safe_load

KEYS = ('top1', 'top2', 'mean_class_acc', 'many_shot_acc', 'medium_shot_acc', 'few_shot_acc')


def _checkpoint(tmp_path, root, head):
    cfg = tmp_path / f'{head}.py'
    cfg.write_text(TINY_CONFIG.replace('{root}', root).replace(
        "type='LinearClsHead'", f"type='{head}'"))
    torch.manual_seed(1)
    model = MODELS.build(Config.fromfile(str(cfg)).model)
    with torch.no_grad():
        model.head.fc.weight.mul_(torch.tensor([3.0, 1.0, 0.3, 2.0])[:, None])
        model.head.fc.bias.copy_(torch.tensor([0.5, 0.0, -0.3, 0.2]))
        if head == 'LWSHead':  # learnt scales that change the ranking
            model.head.scales.copy_(torch.tensor([0.05, 4.0, 2.0, 0.5]))
    ckpt = tmp_path / f'{head}_epoch_1.pth'
    torch.save({'state_dict': model.state_dict(), 'meta': {}}, str(ckpt))
    return str(cfg), str(ckpt)


def _test_tool(tmp_path, monkeypatch, cfg, ckpt, name):
    out = tmp_path / f'{name}.json'
    monkeypatch.setattr(sys, 'argv', [
        'test.py', cfg, ckpt, '--work-dir', str(tmp_path / 'wd'), '--out', str(out),
        '--cfg-options', f'experiment_name={name}_{uuid.uuid4().hex}'])
    runpy.run_path(osp.join(REPO_ROOT, 'tools', 'test.py'), run_name='__main__')
    return {k.split('/', 1)[1]: v for k, v in json.loads(out.read_text()).items()}


@pytest.mark.parametrize('head', ['LinearClsHead', 'LWSHead'])
def test_reported_metrics_are_those_of_tools_test(tmp_path, tiny_root, monkeypatch, capfd,
                                                  head):
    cfg, ckpt = _checkpoint(tmp_path, tiny_root, head)
    out = tmp_path / 'calib'
    # the tools export LOCAL_RANK (as MMPretrain's do); run in this process, it is put back
    monkeypatch.setenv('LOCAL_RANK', '0')
    monkeypatch.delenv('LOCAL_RANK')
    monkeypatch.setattr(sys, 'argv', ['tau_norm.py', cfg, ckpt, '--taus', '0', '0.5', '1', '2',
                                      '--out-dir', str(out), '--device', 'cpu'])
    runpy.run_path(osp.join(REPO_ROOT, 'tools', 'tau_norm.py'), run_name='__main__')
    printed = capfd.readouterr().out
    # progress while extracting: 12 validation images in batches of 5
    assert '3/3, ' in printed and 'best tau' in printed
    summary = json.loads((out / 'sweep.json').read_text())
    best = next(r for r in summary['sweep'] if r['tau'] == summary['best_tau'])

    original = _test_tool(tmp_path, monkeypatch, cfg, ckpt, 'original')
    written = _test_tool(tmp_path, monkeypatch, cfg, summary['checkpoint'], 'written')
    assert 'few_shot_acc' in original  # the tiny set's classes are all few-shot
    for key in KEYS:
        if key not in original:  # a shot group with no class: left out by tools/test.py
            assert key not in written
            for row in (summary['original'], best):
                assert row.get(key) is None or math.isnan(row[key]), key
            continue
        assert summary['original'][key] == pytest.approx(original[key]), key
        assert best[key] == pytest.approx(written[key]), key
    # the sweep is not trivial here: the rows differ
    assert len({r['mean_class_acc'] for r in summary['sweep']}) > 1 or \
        summary['original']['mean_class_acc'] != best['mean_class_acc']
    if head == 'LWSHead':
        state = safe_load(summary['checkpoint'])['state_dict']
        assert torch.equal(state['head.scales'], torch.ones(4))  # folded into W and b


def test_logit_adjust_counts_a_packed_training_split(tmp_path, monkeypatch, capsys):
    """--logit-adjust with lmdb packs and no image folders: the counts come from the dataset
    (annotation and cap), not from the pipeline's loader."""
    import csv
    import shutil

    from conftest import demo_overrides
    from mmengine.registry import init_default_scope
    from pack_testing import DEMO_CONFIG, load_tool, make_photo_root, pack
    init_default_scope('mmpretrain')
    root = make_photo_root(tmp_path / 'root', train_counts=[8, 5, 3])
    tool = load_tool()
    for split in ('train', 'val'):
        pack(tool, root, osp.join(root, 'packs', split), split=split)
        shutil.rmtree(osp.join(root, split))
    options = demo_overrides(root, num_classes=3) + [
        f'{s}_dataloader.dataset.lmdb=packs/{"train" if s == "train" else "val"}'
        for s in ('train', 'val', 'test')] + ['train_dataloader.dataset.max_per_class=4']
    cfg = Config.fromfile(DEMO_CONFIG)
    cfg.merge_from_dict(dict(o.split('=', 1) for o in options[:4] if 'num_classes' in o))
    torch.manual_seed(0)
    ckpt = tmp_path / 'epoch_1.pth'
    torch.save({'state_dict': MODELS.build(dict(cfg.model, head=dict(
        cfg.model.head, num_classes=3))).state_dict()}, str(ckpt))
    out = tmp_path / 'la'
    monkeypatch.setattr(sys, 'argv', ['tau_norm.py', DEMO_CONFIG, str(ckpt), '--logit-adjust',
                                      '--taus', '0', '1', '--out-dir', str(out), '--device',
                                      'cpu', '--cfg-options', *options])
    runpy.run_path(osp.join(REPO_ROOT, 'tools', 'tau_norm.py'), run_name='__main__')
    with open(out / 'best_per_class.csv') as f:
        # the packed split's counts after the cap of 4 (8, 5, 3 -> 4, 4, 3)
        assert [r['train_count'] for r in csv.DictReader(f)] == ['4', '4', '3']
