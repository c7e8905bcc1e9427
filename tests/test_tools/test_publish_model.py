"""tools/publish_model.py: weights and class ids kept, training state dropped, sha256 name,
atomic write; the result predicts like the original in tools/infer.py and tools/test.py."""
import csv
import hashlib
import os
import os.path as osp
import sys

import pytest
import torch
from conftest import REPO_ROOT, run_tool
from conftest import load_tool as load_tool_module

from aliprod_plugins.engine import safe_load
from aliprod_plugins.testing.tiny_checkpoint import tiny_predict_setup

CLASSES = ('10007', '10011', '20013', '49999')


def test_publish_keeps_weights_and_classes_and_predicts_alike(tmp_path, tiny_root):
    cfg, ckpt = tiny_predict_setup(str(tmp_path), tiny_root, CLASSES)
    published = load_tool_module('publish_model').publish(ckpt, str(tmp_path / 'rel' / 'tiny.pth'))

    data = open(published, 'rb').read()
    assert published == str(tmp_path / 'rel' / f'tiny-{hashlib.sha256(data).hexdigest()[:8]}.pth')
    assert os.listdir(tmp_path / 'rel') == [osp.basename(published)]  # no temporary file left
    # plain weights_only loading, no allowlist: only tensors and plain values are left
    out = torch.load(published, map_location='cpu', weights_only=True)
    original = safe_load(ckpt, map_location='cpu')
    assert set(original) >= {'optimizer', 'message_hub', 'param_schedulers'}
    assert set(out) == {'state_dict', 'meta'}
    assert tuple(out['meta']['dataset_meta']['classes']) == CLASSES
    assert out['state_dict'].keys() == original['state_dict'].keys()
    assert all(torch.equal(out['state_dict'][k], v) for k, v in original['state_dict'].items())
    assert len(data) < osp.getsize(ckpt)

    # the published file predicts exactly like the training checkpoint
    infer = load_tool_module('infer')
    images = osp.join(tiny_root, 'val')
    for name, path in (('orig', ckpt), ('pub', published)):
        assert infer.main([cfg, path, images, '--topk', '3', '--num-workers', '0',
                           '--out', str(tmp_path / f'{name}.csv')]) == 0
    rows = [list(csv.reader(open(tmp_path / f'{name}.csv'))) for name in ('orig', 'pub')]
    assert rows[0] == rows[1] and len(rows[0]) == 13

    proc = run_tool([sys.executable, osp.join(REPO_ROOT, 'tools', 'test.py'), cfg, published,
                     '--work-dir', str(tmp_path / 'wd')])
    assert '| longtail/top1 ' in proc.stdout


def test_publish_refuses_checkpoints_without_class_ids(tmp_path, tiny_root):
    _, ckpt = tiny_predict_setup(str(tmp_path), tiny_root, CLASSES)
    checkpoint = safe_load(ckpt)
    del checkpoint['meta']['dataset_meta']
    torch.save(checkpoint, tmp_path / 'no_meta.pth')
    tool = load_tool_module('publish_model')
    with pytest.raises(ValueError, match=r"meta\['dataset_meta'\]\['classes'\]"):
        tool.publish(str(tmp_path / 'no_meta.pth'), str(tmp_path / 'out.pth'))
    assert not any(name.startswith('out') for name in os.listdir(tmp_path))
    with pytest.raises(SystemExit):
        tool.parse_args([ckpt, str(tmp_path / 'out.pt')])
