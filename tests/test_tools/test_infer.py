"""tools/infer.py end to end: mixed inputs, CSV layout and order, bad images, --strict, --tta."""
import csv
import json
import os
import os.path as osp
import sys

import numpy as np
import pytest
import torch
from conftest import REPO_ROOT, run_tool
from conftest import load_tool as load_tool_module
from mmengine.config import Config
from mmengine.dataset import Compose
from mmengine.registry import DefaultScope
from mmpretrain import ImageClassificationInferencer, get_model
from mmpretrain.registry import TRANSFORMS
from PIL import Image

from aliprod_plugins.testing.tiny_checkpoint import make_mirror_pairs_root, tiny_predict_setup

CLASSES = ('10007', '10011', '20013', '49999')


def read_csv(path):
    with open(path, newline='') as f:
        return list(csv.reader(f))


@pytest.fixture(scope='module')
def setup(tmp_path_factory):
    folder = tmp_path_factory.mktemp('infer')
    root = make_mirror_pairs_root(str(folder / 'root'))
    cfg, ckpt = tiny_predict_setup(str(folder), root, CLASSES)
    imgs = folder / 'imgs'
    rng = np.random.default_rng(1)
    for rel in ('b.png', 'a.jpg', 'sub/deeper/c.jpg', 'sub/d.webp', 'e.bmp'):
        (imgs / rel).parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(rng.integers(0, 256, (30, 36, 3), dtype=np.uint8)).save(imgs / rel)
    (imgs / 'notes.md').write_text('not an image, skipped by the folder scan')
    (folder / 'corrupt.jpg').write_bytes(b'\xff\xd8\xff\xe0 truncated')
    lists = folder / 'lists'
    lists.mkdir()
    (lists / 'some.txt').write_text('# a comment\n../imgs/e.bmp\n\n../gone.jpg\n'
                                    f'{imgs / "a.jpg"}\n')
    return dict(cfg=cfg, ckpt=ckpt, folder=folder, imgs=imgs, lists=lists)


def test_mixed_inputs_rows_in_order_errors_and_strict(setup):
    folder, imgs = setup['folder'], setup['imgs']
    out = folder / 'new' / 'dir' / 'preds.csv'
    inputs = [str(imgs / 'e.bmp'), str(imgs), str(setup['lists'] / 'some.txt'),
              str(folder / 'corrupt.jpg'), str(folder / 'missing.png')]
    proc = run_tool([sys.executable, osp.join(REPO_ROOT, 'tools', 'infer.py'), setup['cfg'],
                     setup['ckpt'], *inputs, '--topk', '2', '--out', str(out),
                     '--batch-size', '3', '--num-workers', '1', '--strict'], check=False)
    # --strict's exit 1, not a crash's (also 1) nor a refused input (2): the run finished
    assert proc.returncode == 1, proc.stderr[-3000:]
    assert 'Traceback' not in proc.stderr and 'error:' not in proc.stderr, proc.stderr[-3000:]
    assert proc.stdout.rstrip().splitlines()[-1].startswith(
        f'{out}: 8 images predicted (top-2), 3 failed to load ('), proc.stdout[-3000:]
    rows = read_csv(out)
    umask = os.umask(0)
    os.umask(umask)
    assert out.stat().st_mode & 0o777 == 0o666 & ~umask  # as open() makes it, not 0600
    assert rows[0] == ['path', 'pred_1', 'score_1', 'pred_2', 'score_2', 'error']
    expected_paths = [imgs / 'e.bmp', imgs / 'a.jpg', imgs / 'b.png', imgs / 'e.bmp',
                      imgs / 'sub' / 'd.webp', imgs / 'sub' / 'deeper' / 'c.jpg',
                      imgs / 'e.bmp', folder / 'gone.jpg', imgs / 'a.jpg',
                      folder / 'corrupt.jpg', folder / 'missing.png']
    assert [osp.normpath(r[0]) for r in rows[1:]] == [str(p) for p in expected_paths]
    errors = {osp.basename(r[0]): r[5] for r in rows[1:] if r[5]}
    assert set(errors) == {'gone.jpg', 'corrupt.jpg', 'missing.png'}
    assert errors['gone.jpg'] == errors['missing.png'] == 'file not found'
    assert 'truncated' in errors['corrupt.jpg'] or 'corrupt' in errors['corrupt.jpg']
    for row in rows[1:]:
        if row[5]:
            assert row[1:5] == ['', '', '', '']
        else:
            assert row[1] in CLASSES and row[3] in CLASSES and row[1] != row[3]
            assert 1 >= float(row[2]) >= float(row[4]) > 0
    assert '8 images predicted (top-2), 3 failed to load' in proc.stdout
    assert 'corrupt.jpg' in proc.stderr  # the failures are named

    # same inputs without --strict: exit 0, same file
    tool = load_tool_module('infer')
    out2 = folder / 'preds2.csv'
    assert tool.main([setup['cfg'], setup['ckpt'], *inputs, '--topk', '2',
                      '--out', str(out2), '--num-workers', '0']) == 0
    assert read_csv(out2) == rows


def test_scores_match_the_inferencer_and_sum_to_one(setup):
    paths = [str(setup['imgs'] / 'a.jpg'), str(setup['imgs'] / 'sub' / 'd.webp')]
    out = setup['folder'] / 'all.csv'
    infer = load_tool_module('infer')
    assert infer.main([setup['cfg'], setup['ckpt'], *paths, '--topk', '4', '--out', str(out),
                       '--num-workers', '0']) == 0
    inferencer = ImageClassificationInferencer(setup['cfg'], pretrained=setup['ckpt'],
                                               device='cpu')
    for row, result in zip(read_csv(out)[1:], inferencer(paths)):
        scores = result['pred_scores']
        order = np.argsort(-scores)
        assert row[1:9:2] == [CLASSES[i] for i in order]
        np.testing.assert_allclose([float(s) for s in row[2:9:2]], scores[order], atol=2e-6)
        assert abs(sum(float(s) for s in row[2:9:2]) - 1.0) < 1e-5


def mirror_average(cfg_path, ckpt, paths):
    """Flip TTA computed by hand: mean softmax of the test crop and its mirrored tensor."""
    cfg = Config.fromfile(cfg_path)
    model = get_model(cfg, pretrained=ckpt, device='cpu')
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        pipeline = Compose([TRANSFORMS.build(t) for t in cfg.test_dataloader.dataset.pipeline])
    plain, averaged = [], []
    for path in paths:
        scores = []
        for flip in (False, True):
            data = pipeline(dict(img_path=path))
            inputs = data['inputs'].flip(-1) if flip else data['inputs']
            with torch.no_grad():
                (out, ) = model.test_step(dict(inputs=[inputs],
                                               data_samples=[data['data_samples']]))
            scores.append(out.pred_score.numpy())
        plain.append(scores[0])
        averaged.append((scores[0] + scores[1]) / 2)
    return np.stack(plain), np.stack(averaged)


def test_tta_infer_and_test_tool(setup, tmp_path):
    root = osp.join(setup['folder'], 'root')
    val = sorted(osp.join(dp, f) for dp, _, fs in os.walk(osp.join(root, 'val')) for f in fs)
    plain, expected = mirror_average(setup['cfg'], setup['ckpt'], val)
    out = tmp_path / 'tta.csv'
    infer = load_tool_module('infer')
    assert infer.main([setup['cfg'], setup['ckpt'], osp.join(root, 'val'), '--topk', '4',
                       '--tta', '--out', str(out), '--num-workers', '0']) == 0
    rows = read_csv(out)[1:]
    assert [r[0] for r in rows] == val
    for row, scores in zip(rows, expected):
        got = dict(zip(row[1:9:2], map(float, row[2:9:2])))
        np.testing.assert_allclose([got[c] for c in CLASSES], scores, atol=2e-6)

    # tools/test.py --tta: the same top-1 per image, the metric and the submission from it
    sub, metrics = tmp_path / 'sub.csv', tmp_path / 'm.json'
    run_tool([sys.executable, osp.join(REPO_ROOT, 'tools', 'test.py'), setup['cfg'],
              setup['ckpt'], '--tta', '--work-dir', str(tmp_path / 'wd'), '--out', str(metrics),
              '--submission', str(sub)])
    predicted = {r[0]: int(r[1]) for r in read_csv(sub)[1:]}
    labels = [int(osp.basename(osp.dirname(p))) for p in val]
    top1 = expected.argmax(1)
    # (the submission names the dataset's class ids, those of the checkpoint, written as ints)
    assert predicted == {osp.basename(p): int(CLASSES[i]) for p, i in zip(val, top1)}
    # val holds (image, mirror) pairs: flip TTA scores both alike, unlike the plain model
    assert (top1[0::2] == top1[1::2]).all()
    assert (plain.argmax(1)[0::2] != plain.argmax(1)[1::2]).any()
    result = json.loads(metrics.read_text())
    assert result['longtail/top1'] == pytest.approx(100.0 * np.mean(top1 == labels))
