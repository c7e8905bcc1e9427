"""tools/clean_labels.py's scores against a hand computation: per image, in eval mode, with the
capped training prior, averaged over checkpoints, never adjusted twice, bad images unscored,
and without an N x C array at 20,000 classes."""
import csv
import json
import math
import os.path as osp
import runpy
import sys

import numpy as np
import pytest
import torch
from conftest import REPO_ROOT
from mmengine.config import Config
from mmpretrain.registry import DATASETS, MODELS

import aliprod_plugins  # noqa: F401  registration
from aliprod_plugins.testing import make_aliproducts_root

EPS = 1e-5  # BatchNorm's


@MODELS.register_module(force=True)
class MeanColourBN(torch.nn.Module):
    """Features: each channel's mean, through a BatchNorm (identity in eval mode here)."""

    def __init__(self):
        super().__init__()
        self.bn = torch.nn.BatchNorm1d(3, eps=EPS)

    def forward(self, x):
        return (self.bn(x.mean(dim=(2, 3))), )


CONFIG = """
default_scope = 'mmpretrain'
custom_imports = dict(imports=['aliprod_plugins'], allow_failed_imports=False)
model = dict(type='ImageClassifier', backbone=dict(type='MeanColourBN'),
             head=dict(type='LinearClsHead', num_classes={classes}, in_channels=3, loss={loss}))
data_preprocessor = dict(num_classes={classes}, mean=[127.5] * 3, std=[127.5] * 3, to_rgb=True)
pipeline = [dict(type='LoadImageScaled'), dict(type='Resize', scale=(8, 8)),
            dict(type='PackInputs')]
train_dataloader = dict(batch_size=4, num_workers=0, sampler=dict(type='DefaultSampler'),
    dataset=dict(type='AliProductsDataset', data_root='{root}', split='train',
                 num_classes={classes}, max_per_class=6, on_error='resample', pipeline=pipeline))
val_dataloader = dict(batch_size=5, num_workers=0, sampler=dict(type='DefaultSampler'),
    dataset=dict(type='AliProductsDataset', data_root='{root}', split='val',
                 num_classes={classes}, pipeline=pipeline))
"""
CE = "dict(type='CrossEntropyLoss')"
BS = "dict(type='BalancedSoftmaxLoss', tau=1.0)"


def _setup(tmp_path, root, loss=CE, classes=4, heads=((1.0, 0.0), )):
    """Config and one checkpoint per (weight scale, bias shift) in ``heads``."""
    cfg = tmp_path / 'cfg.py'
    cfg.write_text(CONFIG.format(root=root, loss=loss, classes=classes))
    ckpts = []
    for k, (scale, shift) in enumerate(heads):
        model = MODELS.build(Config.fromfile(str(cfg)).model)
        state = model.state_dict()
        gen = torch.Generator().manual_seed(k)
        state['head.fc.weight'] = scale * torch.randn(classes, 3, generator=gen)
        state['head.fc.bias'] = shift + torch.randn(classes, generator=gen)
        # running statistics 0 / 1: eval mode is the identity, train mode normalises the batch
        state['backbone.bn.running_mean'].zero_()
        state['backbone.bn.running_var'].fill_(1.0)
        ckpts.append(str(tmp_path / f'epoch_{k + 1}.pth'))
        torch.save({'state_dict': state, 'meta': {}}, ckpts[-1])
    return str(cfg), ckpts


def _expected(root, ckpts, log_prior):
    """Mean over checkpoints of softmax(W f + b - log prior)[label], f by hand per image."""
    dataset = DATASETS.build(dict(
        type='AliProductsDataset', data_root=root, split='train', num_classes=len(log_prior),
        pipeline=[dict(type='LoadImageScaled'), dict(type='Resize', scale=(8, 8)),
                  dict(type='PackInputs')]))
    out = {}
    for i in range(len(dataset)):
        try:
            item = dataset[i]
        except OSError:
            continue
        img = item['inputs'].double().flip(0)  # BGR -> RGB (to_rgb)
        f = ((img - 127.5) / 127.5).mean(dim=(1, 2)) / math.sqrt(1 + EPS)
        label = int(item['data_samples'].gt_label)
        probs = []
        for path in ckpts:
            state = torch.load(path, weights_only=True)['state_dict']
            z = state['head.fc.weight'].double() @ f + state['head.fc.bias'].double()
            probs.append(torch.softmax(z - torch.as_tensor(log_prior), 0)[label].item())
        out[dataset._index.relative_path(i)] = sum(probs) / len(probs)
    return out


def _run(monkeypatch, capsys, *argv):
    monkeypatch.setattr(sys, 'argv', ['clean_labels.py', *map(str, argv)])
    runpy.run_path(osp.join(REPO_ROOT, 'tools', 'clean_labels.py'), run_name='__main__')
    return capsys.readouterr().out


def _scores(out):
    """Scores of the removed images (threshold 1, min-keep 1: all but each class's best)."""
    with open(out.parent / f'{out.stem}_removed.csv') as f:
        return {r['path']: float(r['score']) for r in csv.DictReader(f)}


def _log_prior(counts):
    counts = np.maximum(np.asarray(counts, dtype=np.float64), 1)
    return np.log(counts / counts.sum())


def test_scores_per_image_in_eval_mode_with_the_capped_prior_averaged(tmp_path, tiny_root,
                                                                      monkeypatch, capsys):
    cfg, ckpts = _setup(tmp_path, tiny_root, heads=((1.0, 0.0), (3.0, 0.5)))
    out = tmp_path / 'clean.json'
    _run(monkeypatch, capsys, cfg, *ckpts, '--out', out, '--threshold', 1, '--min-keep', 1,
         '--device', 'cpu')
    got = _scores(out)
    # the model trained on the capped split (12, 8, 5, 3 capped at 6): that is its prior
    expected = _expected(tiny_root, ckpts, _log_prior([6, 6, 5, 3]))
    assert len(got) == 28 - 4
    # the images of a class differ by more than 300x the tolerance below: a score charged to
    # the wrong image (or one per class) cannot pass
    head = [v for k, v in expected.items() if k.startswith('00000/')]
    assert max(head) - min(head) > 6e-4
    for path, score in got.items():
        assert score == pytest.approx(expected[path], abs=2e-6), path


def test_a_balanced_softmax_model_is_scored_raw_and_never_adjusted_twice(
        tmp_path, tiny_root, monkeypatch, capsys):
    cfg, ckpts = _setup(tmp_path, tiny_root, loss=BS)
    out = tmp_path / 'clean.txt'
    printed = _run(monkeypatch, capsys, cfg, *ckpts, '--out', out, '--threshold', 1,
                   '--min-keep', 1, '--device', 'cpu')
    assert '(adjust tau 0)' in printed
    expected = _expected(tiny_root, ckpts, np.zeros(4))
    for path, score in _scores(out).items():
        assert score == pytest.approx(expected[path], abs=2e-6), path
    with pytest.raises(SystemExit) as exc:  # the tool's one-line error, exit 2
        _run(monkeypatch, capsys, cfg, *ckpts, '--out', out, '--adjust-tau', 1)
    assert exc.value.code == 2
    assert 'adjusting them again' in capsys.readouterr().err.strip().splitlines()[-1]


def test_a_bad_image_is_listed_not_scored_and_nobody_else_is_charged(tmp_path, monkeypatch,
                                                                     capsys):
    root = make_aliproducts_root(str(tmp_path / 'root'), train_counts=[6, 5, 4, 3],
                                 size=(20, 24))
    names = json.load(open(osp.join(root, 'train.json')))['images']
    bad = f'{names[1]["class_id"]}/{names[1]["image_id"]}'
    with open(osp.join(root, 'train', bad), 'wb') as f:
        f.write(b'not a jpeg')
    # the config says on_error='resample': the tool must score with 'raise' semantics
    cfg, ckpts = _setup(tmp_path, root)
    out = tmp_path / 'clean.json'
    printed = _run(monkeypatch, capsys, cfg, *ckpts, '--out', out, '--threshold', 1,
                   '--min-keep', 1, '--device', 'cpu')
    assert 'scored 17 images' in printed and '1 that failed to load kept unscored' in printed
    report = json.loads((tmp_path / 'clean_report.json').read_text())
    assert [b['path'] for b in report['bad_images']] == [bad]
    got = _scores(out)
    assert bad not in got and len(got) == 17 - 4
    expected = _expected(root, ckpts, _log_prior([6, 5, 4, 3]))
    for path, score in got.items():
        assert score == pytest.approx(expected[path], abs=2e-6), path
    kept = [f'{e["class_id"]}/{e["image_id"]}' for e in json.loads(out.read_text())['images']]
    assert bad in kept  # training's on_error decides about it


def test_memory_never_holds_images_x_classes(tmp_path, tiny_root, monkeypatch, capsys):
    classes, copies = 20000, 8  # N = 28 x 8 = 224 images: N x C float32 = 17.9 MB
    cfg, ckpts = _setup(tmp_path, tiny_root, classes=classes)
    source = DATASETS.build(dict(type='AliProductsDataset', data_root=tiny_root,
                                 split='train', num_classes=4))
    listed = tmp_path / 'many.txt'
    listed.write_text(''.join(f'{source._index.relative_path(i)} {int(y)}\n'
                              for i, y in enumerate(source.get_gt_labels())) * copies)
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU],
                                profile_memory=True) as prof:
        printed = _run(monkeypatch, capsys, cfg, *ckpts, '--out', tmp_path / 'c.txt',
                       '--device', 'cpu', '--cfg-options',
                       f'train_dataloader.dataset.ann_file={listed}')
    assert 'scored 224 images' in printed
    n_by_c = 224 * classes * 4
    biggest = max(e.cpu_memory_usage for e in prof.events())
    # a batch of 5 is 0.4 MB of logits; anything near N x C means the split was kept whole
    assert biggest < n_by_c / 8, (biggest, n_by_c)
