"""The plot tools: the numbers they draw (written beside the PNG as JSON), from annotation files,
configs and per-class CSVs, up to 1,000 classes; they create their output folder."""
import json
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


def drawn(png_path):
    """The JSON the tools write beside the PNG: what they drew."""
    assert_png(png_path)
    return json.loads((png_path.parent / (png_path.stem + '.json')).read_text())


def test_class_sizes_from_annotation_file_and_csv(tmp_path, tiny_root, monkeypatch, capsys):
    # tiny_root's train.json lists 12, 8, 5 and 3 images; capped at 6: 6, 6, 5, 3
    out = tmp_path / 'new' / 'folder' / 'sizes.png'  # missing folders are created
    run_tool(monkeypatch, 'plot_class_sizes.py', osp.join(tiny_root, 'train.json'),
             '--max-per-class', 6, '--out', out)
    profiles = drawn(out)['profiles']
    assert profiles['before cap']['sizes'] == [12, 8, 5, 3]
    assert profiles['after cap']['sizes'] == [6, 6, 5, 3]
    assert (profiles['before cap']['images'], profiles['after cap']['images']) == (28, 20)
    csv_path = per_class_csv(tmp_path / 'r.csv', [100.0, 66.7, 33.3, 0.0])
    run_tool(monkeypatch, 'plot_class_sizes.py', csv_path, '--out', tmp_path / 'csv.png')
    # the CSV's unknown train_count (class 00004) counts as 0
    sizes = drawn(tmp_path / 'csv.png')['profiles']['training set']['sizes']
    assert sizes == [400, 60, 12, 3, 0]
    with pytest.raises(SystemExit) as stop:  # one line, exit 2 (tools/X.py: error: ...)
        run_tool(monkeypatch, 'plot_class_sizes.py', out)
    assert stop.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1].startswith(
        'tools/analysis/plot_class_sizes.py: error: source must be a .py config, a .json '
        'annotation file')


def test_class_sizes_from_config_counts(tmp_path, tiny_root, monkeypatch):
    if 'AliProductsDataset' not in DATASETS.module_dict:
        pytest.skip('AliProductsDataset is not registered')
    cfg = tmp_path / 'cfg.py'
    cfg.write_text(f"default_scope = 'mmpretrain'\ntrain_dataloader = dict(dataset=dict("
                   f"type='AliProductsDataset', data_root='{tiny_root}', split='train', "
                   f"num_classes=4, max_per_class=6, pipeline=[]))\n")
    run_tool(monkeypatch, 'plot_class_sizes.py', cfg, '--out', tmp_path / 'cfg.png')
    profiles = drawn(tmp_path / 'cfg.png')['profiles']
    assert profiles['before cap']['sizes'] == [12, 8, 5, 3]
    assert profiles['after cap']['sizes'] == [6, 6, 5, 3]


def test_per_class_accuracy_of_two_result_files(tmp_path, monkeypatch, capsys):
    a = per_class_csv(tmp_path / 'stage1.csv', [100.0, 60.0, 0.0, 0.0])
    b = per_class_csv(tmp_path / 'stage2.csv', [60.0, 60.0, 80.0, 20.0])
    out = tmp_path / 'plots' / 'acc.png'
    run_tool(monkeypatch, 'plot_per_class_acc.py', a, b, '--labels', 'stage 1', 'stage 2',
             '--out', out)
    files = drawn(out)['files']
    assert [f['label'] for f in files] == ['stage 1', 'stage 2']
    # class 00004 (no train_count, not evaluated) is left out; train counts 400, 60, 12, 3
    # with the default thresholds: many = {400}, medium = {60}, few = {12, 3}
    bars = [{g: (v['mean_class_acc'], v['classes']) for g, v in f['shot_groups'].items()}
            for f in files]
    assert bars[0] == {'many': (100.0, 1), 'medium': (60.0, 1), 'few': (0.0, 2)}
    assert bars[1] == {'many': (60.0, 1), 'medium': (60.0, 1), 'few': (50.0, 2)}
    assert [f['mean_class_acc'] for f in files] == [40.0, 55.0]
    for f, acc in zip(files, ([100.0, 60.0, 0.0, 0.0], [60.0, 60.0, 80.0, 20.0])):
        assert f['points_drawn'] and f['points']['train_count'] == [400, 60, 12, 3]
        assert sum(f['bins']['classes']) == 4
        # four classes far apart in size: one per bin, each bin's mean is that class
        assert sorted(f['bins']['mean']) == sorted(acc)
    with pytest.raises(SystemExit) as stop:
        run_tool(monkeypatch, 'plot_per_class_acc.py', a, b, '--labels', 'x')
    assert stop.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == \
        'tools/analysis/plot_per_class_acc.py: error: --labels needs one label per CSV (2), got 1'


def test_per_class_accuracy_at_a_thousand_classes_is_binned(tmp_path, monkeypatch):
    # 1,000 classes of 100 down to 1 training images (Glyphs-LT's profile); accuracy 90% for
    # classes of >= 20 images, 30% below
    train = np.maximum(np.round(100 * 100.0**(-np.arange(1000) / 999)), 1).astype(np.int64)
    acc = np.where(train >= 20, 90.0, 30.0)
    path = tmp_path / 'big_per_class.csv'
    write_per_class_csv(str(path), dict(train_count=train, eval_count=np.full(1000, 10),
                                        top1_acc=acc))
    out = tmp_path / 'big.png'
    run_tool(monkeypatch, 'plot_per_class_acc.py', path, '--out', out, '--bins', 8)
    summary = drawn(out)
    entry = summary['files'][0]
    assert entry['classes'] == 1000 and not entry['points_drawn'] and entry['points'] is None
    bins = entry['bins']
    assert sum(bins['classes']) == 1000 and len(bins['classes']) <= 9
    edges = np.array(summary['bin_edges'])
    for lo, hi, n, mean, q25, q75 in zip(bins['lo'], bins['hi'], bins['classes'],
                                         bins['mean'], bins['q25'], bins['q75']):
        inside = (train >= lo) & (train < hi)
        assert n == inside.sum() and mean == pytest.approx(acc[inside].mean())
        assert q25 <= mean <= q75 or q25 == q75
        assert lo in edges and hi in edges
    n_many, n_few = int((train > 100).sum()), int((train < 20).sum())
    assert entry['shot_groups'] == {
        'many': {'mean_class_acc': None, 'classes': n_many},  # none above 100: null, not NaN
        'medium': {'mean_class_acc': 90.0, 'classes': 1000 - n_few},
        'few': {'mean_class_acc': 30.0, 'classes': n_few}}
    assert entry['mean_class_acc'] == pytest.approx(acc.mean())


def test_binned_mean_averages_classes_per_bin():
    tool = runpy.run_path(osp.join(REPO_ROOT, 'tools', 'analysis', 'plot_per_class_acc.py'))
    edges = np.array([0.0, 1.0, 10.0, 100.0])
    centers, means = tool['binned_mean'](np.array([0, 5, 7, 50]), np.array([10., 20., 40., 90.]),
                                         edges)
    assert means.tolist() == [10.0, 30.0, 90.0]
    assert len(centers) == 3
    stats = tool['bin_stats'](np.array([0, 5, 7, 9, 50]), np.array([10., 20., 40., 60., 90.]),
                              edges)
    assert stats['classes'].tolist() == [1, 3, 1]
    assert stats['q25'].tolist() == [10.0, 30.0, 90.0]
    assert stats['q75'].tolist() == [10.0, 50.0, 90.0]
