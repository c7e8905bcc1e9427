"""tools/clean_labels.py: the selection rule, then the tool on JSON and list annotations."""
import json
import os.path as osp
import runpy
import sys

import numpy as np
import pytest
import torch
from conftest import REPO_ROOT
from mmpretrain.registry import DATASETS

import aliprod_plugins  # noqa: F401  registration
from aliprod_plugins.testing.tiny_model import save_constant_checkpoint, tiny_config_head

sys.path.insert(0, osp.join(REPO_ROOT, 'tools'))
from clean_labels_scoring import select_removed  # noqa: E402

CONFIG = tiny_config_head(4) + """
pipeline = [dict(type='LoadImageScaled'), dict(type='Resize', scale=(16, 16)),
            dict(type='PackInputs')]
train_dataloader = dict(batch_size=4, num_workers=0, sampler=dict(type='DefaultSampler'),
    dataset=dict(type='AliProductsDataset', data_root='{root}', split='train', num_classes=4,
                 max_per_class=6, pipeline=pipeline))
val_dataloader = dict(batch_size=5, num_workers=0, sampler=dict(type='DefaultSampler'),
    dataset=dict(type='AliProductsDataset', data_root='{root}', split='val', num_classes=4,
                 pipeline=pipeline))
"""


def test_selection_removes_low_scores_but_never_the_best_k_of_a_class():
    labels = np.array([0, 0, 0, 0, 1, 1, 1, 2, 2])
    scores = np.array([0.9, 0.05, 0.01, 0.5, 0.02, 0.01, 0.03, 0.8, 0.9])
    removed = select_removed(labels, scores, threshold=0.1, min_keep=2)
    # class 0: 0.05 and 0.01 are below 0.1 and not among its best two (0.9, 0.5): removed;
    # class 1: every score is low, its best two (0.03, 0.02) stay; class 2: nothing low
    np.testing.assert_array_equal(removed, [0, 1, 1, 0, 0, 1, 0, 0, 0])
    # min_keep 4 protects every image here (no class has more than 4)
    assert not select_removed(labels, scores, threshold=0.1, min_keep=4).any()
    counts_left = np.bincount(labels[~select_removed(labels, np.zeros(9), 0.5, 1)])
    np.testing.assert_array_equal(counts_left, [1, 1, 1])  # all rejected: one kept per class
    with pytest.raises(ValueError, match='select_removed: min_keep expected an int >= 1, got 0'):
        select_removed(labels, scores, 0.1, 0)


@pytest.fixture
def setup(tmp_path, tiny_root):
    """A config on the tiny root (train counts 12, 8, 5, 3) and a checkpoint that trusts only
    labels 0 and 1: every image gets softmax(bias) = (0.49, 0.49, 0.01, 0.01)."""
    cfg = tmp_path / 'tiny.py'
    cfg.write_text(CONFIG.replace('{root}', tiny_root))
    ckpt = save_constant_checkpoint(str(cfg), str(tmp_path / 'epoch_1.pth'),
                                    torch.log(torch.tensor([0.49, 0.49, 0.01, 0.01])))
    return str(cfg), ckpt


def _run(monkeypatch, capsys, *argv):
    monkeypatch.setattr(sys, 'argv', ['clean_labels.py', *argv])
    runpy.run_path(osp.join(REPO_ROOT, 'tools', 'clean_labels.py'), run_name='__main__')
    return capsys.readouterr().out


def _load(root, ann_file, max_per_class=None):
    return DATASETS.build(dict(type='AliProductsDataset', data_root=root, split='train',
                               ann_file=ann_file, num_classes=4, max_per_class=max_per_class))


def test_json_annotation_keeps_k_per_rejected_class_and_loads(setup, tmp_path, tiny_root,
                                                              monkeypatch, capsys):
    cfg, ckpt = setup
    out = tmp_path / 'clean' / 'train_clean.json'  # the folder does not exist yet
    printed = _run(monkeypatch, capsys, cfg, ckpt, '--out', str(out), '--threshold', '0.2',
                   '--min-keep', '2', '--adjust-tau', '0', '--device', 'cpu')
    # the split is scored without the config's cap of 6: classes 2 and 3 (5 and 3 images)
    # are rejected down to their best two; classes 0 and 1 keep all 12 and 8
    assert 'removed 4 ' in printed and 'kept 24' in printed, printed
    assert out.read_text().lstrip().startswith('{')
    dataset = _load(tiny_root, str(out))
    np.testing.assert_array_equal(dataset.class_counts, [12, 8, 2, 2])
    np.testing.assert_array_equal(_load(tiny_root, str(out), 6).class_counts, [6, 6, 2, 2])
    report = json.loads((tmp_path / 'clean' / 'train_clean_report.json').read_text())
    assert [c['removed'] for c in report['per_class']] == [0, 0, 3, 1]
    assert (tmp_path / 'clean' / 'train_clean_removed_per_class.png').stat().st_size > 0
    removed_rows = (tmp_path / 'clean' / 'train_clean_removed.csv').read_text().splitlines()
    assert len(removed_rows) == 1 + 4 and all(r.split(',')[1] in '23' for r in removed_rows[1:])


def test_list_annotation_stays_a_list_and_the_tail_survives(setup, tmp_path, tiny_root,
                                                            monkeypatch, capsys):
    cfg, ckpt = setup
    source = _load(tiny_root, 'train.json')
    listed = tmp_path / 'train_list.txt'
    listed.write_text(''.join(f'{source._index.relative_path(i)} {int(y)}\n'
                              for i, y in enumerate(source.get_gt_labels())))
    out = tmp_path / 'list_clean.txt'
    # a threshold above every score: everything is rejected, min-keep 4 still keeps the
    # best four of each class (class 3 has only 3: all of them)
    _run(monkeypatch, capsys, cfg, ckpt, '--out', str(out), '--threshold', '1', '--min-keep',
         '4', '--adjust-tau', '0', '--device', 'cpu', '--cfg-options',
         f'train_dataloader.dataset.ann_file={listed}')
    assert not out.read_text().lstrip().startswith('{')
    dataset = _load(tiny_root, str(out))
    assert dataset.ann_format == 'list'
    np.testing.assert_array_equal(dataset.class_counts, [4, 4, 4, 3])
