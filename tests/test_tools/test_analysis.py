"""The plot tools write PNGs from annotation files, configs and per-class CSVs."""
import os.path as osp
import runpy
import sys

import numpy as np
import pytest
from conftest import REPO_ROOT
from mmpretrain.registry import DATASETS

from aliprod_plugins.evaluation.reports import read_per_class_csv, write_per_class_csv

PNG_MAGIC = b'\x89PNG\r\n\x1a\n'


def run_tool(monkeypatch, name, *args):
    monkeypatch.setattr(sys, 'argv', [name] + [str(a) for a in args])
    runpy.run_path(osp.join(REPO_ROOT, 'tools', 'analysis', name), run_name='__main__')


def assert_png(path):
    with open(path, 'rb') as f:
        assert f.read(8) == PNG_MAGIC
    assert osp.getsize(path) > 5000


def per_class_csv(path, acc):
    write_per_class_csv(str(path), dict(
        train_count=np.array([400, 60, 12, 3, -1]), eval_count=np.array([3, 3, 3, 3, 0]),
        top1_acc=np.array(acc + [np.nan])), ['00000', '00001', '00002', '00003', '00004'])
    return path


def test_per_class_csv_round_trip(tmp_path):
    table = read_per_class_csv(str(per_class_csv(tmp_path / 'a.csv', [100.0, 66.7, 33.3, 0.0])))
    assert table['class_id'].tolist() == ['00000', '00001', '00002', '00003', '00004']
    assert table['train_count'][:4].tolist() == [400, 60, 12, 3]
    assert np.isnan(table['train_count'][4]) and np.isnan(table['top1_acc'][4])
    (tmp_path / 'bad.csv').write_text('class,acc\n0,1\n')
    with pytest.raises(ValueError, match='expected the header class_id,train_count'):
        read_per_class_csv(str(tmp_path / 'bad.csv'))


def test_class_sizes_from_annotation_file_and_csv(tmp_path, tiny_root, monkeypatch, capsys):
    run_tool(monkeypatch, 'plot_class_sizes.py', osp.join(tiny_root, 'train.json'),
             '--max-per-class', 6, '--out', tmp_path / 'sizes.png')
    assert_png(tmp_path / 'sizes.png')
    csv_path = per_class_csv(tmp_path / 'r.csv', [100.0, 66.7, 33.3, 0.0])
    run_tool(monkeypatch, 'plot_class_sizes.py', csv_path, '--out', tmp_path / 'csv.png')
    assert_png(tmp_path / 'csv.png')
    with pytest.raises(ValueError, match='must be a .py config, a .json annotation file'):
        run_tool(monkeypatch, 'plot_class_sizes.py', tmp_path / 'sizes.png')


def test_class_sizes_from_config_counts(tmp_path, tiny_root, monkeypatch):
    if 'AliProductsDataset' not in DATASETS.module_dict:
        pytest.skip('AliProductsDataset is not registered')
    cfg = tmp_path / 'cfg.py'
    cfg.write_text(f"default_scope = 'mmpretrain'\ntrain_dataloader = dict(dataset=dict("
                   f"type='AliProductsDataset', data_root='{tiny_root}', split='train', "
                   f"num_classes=4, max_per_class=6, pipeline=[]))\n")
    tool = runpy.run_path(osp.join(REPO_ROOT, 'tools', 'analysis', 'plot_class_sizes.py'))
    profiles = tool['counts_from_config'](str(cfg), [])
    assert profiles['before cap'].tolist() == [12, 8, 5, 3]
    assert profiles['after cap'].tolist() == [6, 6, 5, 3]
    run_tool(monkeypatch, 'plot_class_sizes.py', cfg, '--out', tmp_path / 'cfg.png')
    assert_png(tmp_path / 'cfg.png')


def test_per_class_accuracy_of_two_result_files(tmp_path, monkeypatch):
    a = per_class_csv(tmp_path / 'stage1.csv', [100.0, 66.7, 0.0, 0.0])
    b = per_class_csv(tmp_path / 'stage2.csv', [66.7, 66.7, 66.7, 33.3])
    run_tool(monkeypatch, 'plot_per_class_acc.py', a, b, '--labels', 'stage 1', 'stage 2',
             '--out', tmp_path / 'acc.png')
    assert_png(tmp_path / 'acc.png')
    with pytest.raises(ValueError, match='--labels needs one label per CSV'):
        run_tool(monkeypatch, 'plot_per_class_acc.py', a, b, '--labels', 'x')


def test_binned_mean_averages_classes_per_bin():
    tool = runpy.run_path(osp.join(REPO_ROOT, 'tools', 'analysis', 'plot_per_class_acc.py'))
    edges = np.array([0.0, 1.0, 10.0, 100.0])
    centers, means = tool['binned_mean'](np.array([0, 5, 7, 50]), np.array([10., 20., 40., 90.]),
                                         edges)
    assert means.tolist() == [10.0, 30.0, 90.0]
    assert len(centers) == 3
