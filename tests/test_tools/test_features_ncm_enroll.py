"""tools/extract_features.py, build_ncm.py and enroll_classes.py end to end on a tiny root."""
import csv
import json
import os
import os.path as osp
import runpy
import sys

import numpy as np
import pytest
import torch
from conftest import REPO_ROOT, run_tool
from mmengine.config import Config
from mmengine.dataset import Compose, pseudo_collate
from mmengine.registry import DefaultScope
from mmpretrain.registry import MODELS, TRANSFORMS
from test_test_tool import TINY_CONFIG

from aliprod_plugins.engine import safe_load

TOOLS = osp.join(REPO_ROOT, 'tools')
OLD = ('00000', '00001', '00002')


def run_in_process(monkeypatch, tool, *args):
    # --debug: our input errors propagate as exceptions (else run_tool prints one line, exits 2)
    monkeypatch.setattr(sys, 'argv', [tool, *map(str, args), '--debug'])
    runpy.run_path(osp.join(TOOLS, tool), run_name='__main__')


@pytest.fixture
def three_class_model(tmp_path, tiny_root):
    """A 3-class model on the tiny root (classes 0-2 of its 4), with class ids: a random
    backbone, and head rows along each class's centred mean feature (computed here, with the
    model itself), as a trained classifier would roughly be."""
    cfg_path = tmp_path / 'tiny3.py'
    cfg_path.write_text(TINY_CONFIG.replace('{root}', tiny_root).replace(
        'num_classes=4', 'num_classes=3'))
    cfg = Config.fromfile(str(cfg_path))
    torch.manual_seed(0)
    model = MODELS.build(dict(cfg.model, data_preprocessor=cfg.data_preprocessor)).eval()
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        pipeline = Compose([TRANSFORMS.build(t) for t in cfg.pipeline])
    means = {}
    with torch.no_grad():
        for class_id in OLD + ('00003', ):
            folder = osp.join(tiny_root, 'train', class_id)
            batch = pseudo_collate([pipeline(dict(img_path=osp.join(folder, f)))
                                    for f in sorted(os.listdir(folder))])
            feats = model.extract_feat(model.data_preprocessor(batch)['inputs'])[-1]
            means[class_id] = (feats.mean(0), len(feats))
        # a linear classifier separates centred features: rows along mean - mu, bias -w . mu
        mu = sum(m * n for m, n in means.values()) / sum(n for _, n in means.values())
        for label, class_id in enumerate(OLD):
            row = means[class_id][0] - mu
            model.head.fc.weight[label] = (4.9 + 0.1 * label) * row / row.norm()
            model.head.fc.bias[label] = -model.head.fc.weight[label] @ mu
    ckpt = tmp_path / 'old.pth'
    torch.save({'state_dict': model.state_dict(),
                'meta': {'epoch': 3, 'dataset_meta': {'classes': OLD}}}, str(ckpt))
    return str(cfg_path), str(ckpt), mu


def write_list(path, root, class_id, split='train', label=None):
    files = sorted(f for f in os.listdir(osp.join(root, split, class_id)))
    with open(path, 'w') as f:
        f.write('# new product\n\n')
        for name in files:
            path = osp.join(root, split, class_id, name)
            f.write(f'{path}\n' if label is False else f'{path} {label or class_id}\n')
    return files


def test_enrolled_class_is_predicted_on_its_images_and_old_rows_stay(
        tmp_path, tiny_root, three_class_model, monkeypatch):
    cfg, ckpt, mu = three_class_model
    lst, grown = tmp_path / 'new.txt', tmp_path / 'grown.pth'
    write_list(lst, tiny_root, '00003')
    run_in_process(monkeypatch, 'enroll_classes.py', cfg, ckpt, '--images', lst, '--out', grown)
    old, new = safe_load(ckpt), safe_load(str(grown))
    w_old, w_new = old['state_dict']['head.fc.weight'], new['state_dict']['head.fc.weight']
    assert w_new.shape == (4, 64)
    assert torch.equal(w_new[:3], w_old)  # bit-identical old rows and biases
    assert torch.equal(new['state_dict']['head.fc.bias'][:3], old['state_dict']['head.fc.bias'])
    assert new['meta']['dataset_meta']['classes'] == OLD + ('00003', )
    assert new['meta']['enrolled'] == [dict(class_id='00003', images=3, replaced=False)]
    # the new row has the mean norm of the old ones
    assert float(w_new[3].norm()) == pytest.approx(float(w_old.norm(dim=1).mean()), rel=1e-5)
    # centred by the training split's mean feature: logit w . (x - mu) + mean(old biases)
    torch.testing.assert_close(torch.tensor(new['meta']['feature_mean']), mu, rtol=1e-4,
                               atol=1e-5)
    b_old = old['state_dict']['head.fc.bias']
    assert float(new['state_dict']['head.fc.bias'][3]) == pytest.approx(
        float(b_old.mean() - w_new[3] @ mu), rel=1e-4, abs=1e-5)
    for key, value in old['state_dict'].items():
        if not key.startswith('head.fc'):
            assert torch.equal(new['state_dict'][key], value), key

    # tools/infer.py and tools/test.py run on the grown checkpoint as is
    opts = ['--cfg-options', 'model.head.num_classes=4', 'data_preprocessor.num_classes=4']
    val_list = tmp_path / 'val3.txt'
    write_list(val_list, tiny_root, '00003', split='val', label=False)  # infer.py's list
    run_tool([sys.executable, osp.join(TOOLS, 'infer.py'), cfg, str(grown), str(val_list),
              '--out', str(tmp_path / 'pred.csv'), '--topk', '2', *opts])
    with open(tmp_path / 'pred.csv') as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 3 and all(r['pred_1'] == '00003' for r in rows)  # its own class
    out = tmp_path / 'test' / 'metrics.json'
    run_tool([sys.executable, osp.join(TOOLS, 'test.py'), cfg, str(grown), '--work-dir',
              str(tmp_path / 'test'), '--out', str(out), *opts])
    with open(osp.splitext(out)[0] + '_per_class.csv') as f:
        per_class = {r['class_id']: r for r in csv.DictReader(f)}
    assert list(per_class) == list(OLD) + ['00003']
    assert [per_class[c]['top1_acc'] for c in per_class] == ['100.0000'] * 4


def test_existing_ids_are_refused_unless_replace(tmp_path, tiny_root, three_class_model,
                                                 monkeypatch):
    cfg, ckpt, _ = three_class_model
    lst, grown = tmp_path / 'dup.txt', tmp_path / 'grown.pth'
    write_list(lst, tiny_root, '00001')
    with pytest.raises(ValueError, match=r"1 class id\(s\) already in the checkpoint "
                                         r"\(\['00001'\]\); pass --replace"):
        run_in_process(monkeypatch, 'enroll_classes.py', cfg, ckpt, '--images', lst, '--out',
                       grown)
    assert not grown.exists()
    run_in_process(monkeypatch, 'enroll_classes.py', cfg, ckpt, '--images', lst, '--out', grown,
                   '--replace')
    old, new = safe_load(ckpt)['state_dict'], safe_load(str(grown))
    w_old, w_new = old['head.fc.weight'], new['state_dict']['head.fc.weight']
    assert w_new.shape == w_old.shape and new['meta']['dataset_meta']['classes'] == OLD
    assert torch.equal(w_new[[0, 2]], w_old[[0, 2]]) and not torch.equal(w_new[1], w_old[1])
    (tmp_path / 'bad.txt').write_text('only_a_path.jpg\n')
    with pytest.raises(ValueError, match=r'bad.txt, line 1: expected "<image path> <class_id>"'):
        run_in_process(monkeypatch, 'enroll_classes.py', cfg, ckpt, '--images',
                       tmp_path / 'bad.txt', '--out', grown)


def test_features_npz_and_ncm_checkpoint(tmp_path, tiny_root, monkeypatch):
    cfg_path = tmp_path / 'tiny.py'
    cfg_path.write_text(TINY_CONFIG.replace('{root}', tiny_root))
    torch.manual_seed(0)
    model = MODELS.build(Config.fromfile(str(cfg_path)).model)
    ckpt = tmp_path / 'm.pth'
    torch.save({'state_dict': model.state_dict(), 'meta': {}}, str(ckpt))
    out = tmp_path / 'feats' / 'train.npz'
    run_in_process(monkeypatch, 'extract_features.py', cfg_path, ckpt, '--split', 'train',
                   '--out', out, '--pool')
    with np.load(out, allow_pickle=False) as npz:
        data = {k: npz[k] for k in npz.files}
    assert data['features'].dtype == np.float16 and data['features'].shape == (28, 64)
    assert data['labels'].tolist() == [0] * 12 + [1] * 8 + [2] * 5 + [3] * 3  # tiny_root
    assert data['image_ids'][0].decode().startswith('00000/')
    assert data['class_counts'].tolist() == [12, 8, 5, 3]
    unit = data['features'].astype(np.float32)
    unit /= np.linalg.norm(unit, axis=1, keepdims=True)
    np.testing.assert_allclose(data['class_means'][3], unit[-3:].mean(0), atol=2e-3)
    assert not list((tmp_path / 'feats').glob('.extract_*'))  # temporary files removed

    ncm = tmp_path / 'ncm.pth'
    run_in_process(monkeypatch, 'build_ncm.py', cfg_path, ckpt, '--out', ncm)
    saved = safe_load(str(ncm))
    weight = saved['state_dict']['head.fc.weight'].numpy()
    means = data['class_means'] / np.linalg.norm(data['class_means'], axis=1, keepdims=True)
    np.testing.assert_allclose(weight, means, atol=2e-3)
    assert not saved['state_dict']['head.fc.bias'].any()
    assert saved['meta']['ncm']['train_images'] == 28
    # NCM on the class-coloured images: every val image nearest its own class's mean
    cfg_ncm = tmp_path / 'tiny_ncm.py'
    cfg_ncm.write_text(f"_base_ = ['{cfg_path}']\nmodel = dict(head=dict(type='NCMHead'))\n")
    for config in (cfg_ncm, cfg_path):  # the NCM config and the original one: same ranking
        res = tmp_path / f'{config.stem}.json'
        run_tool([sys.executable, osp.join(TOOLS, 'test.py'), str(config), str(ncm),
                  '--work-dir', str(tmp_path / config.stem), '--out', str(res)])
        metrics = json.loads(res.read_text())
        metrics = metrics.get('metrics', metrics)
        assert [v for k, v in metrics.items() if k.endswith('mean_class_acc')] == [100.0]
