"""The demo model exported once per session by tools/export_onnx.py, for the ONNX tests.

Import ``onnx_demo_fixture`` into a test module; tests ask for ``onnx_demo``.
"""
import hashlib
import os
import os.path as osp
import sys

import numpy as np
import pytest
from conftest import REPO_ROOT, run_tool
from PIL import Image

from aliprod_plugins.testing.tiny_checkpoint import make_mirror_pairs_root, tiny_predict_setup

CLASSES = ('10007', '10011', '20013', '49999')
EXPORT = osp.join(REPO_ROOT, 'tools', 'export_onnx.py')


def sha256(path):
    with open(path, 'rb') as f:
        return hashlib.sha256(f.read()).hexdigest()


def colour_images(folder, count=5, seed=3):
    """Noise in three different channels, several sizes: a channel swap changes the input."""
    rng = np.random.default_rng(seed)
    os.makedirs(folder, exist_ok=True)
    paths = []
    for i in range(count):
        h, w = 28 + 9 * i, 50 - 4 * i
        img = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        img[..., 0] //= 3  # unequal channels
        paths.append(osp.join(folder, f'c{i}.{"png" if i % 2 else "jpg"}'))
        Image.fromarray(img).save(paths[-1])
    return paths


@pytest.fixture(scope='session', name='onnx_demo')
def onnx_demo_fixture(tmp_path_factory):
    folder = tmp_path_factory.mktemp('export')
    root = make_mirror_pairs_root(str(folder / 'root'))
    cfg, ckpt = tiny_predict_setup(str(folder), root, CLASSES)
    images = colour_images(str(folder / 'imgs'))
    out = str(folder / 'deploy' / 'model.onnx')
    proc = run_tool([sys.executable, EXPORT, cfg, ckpt, '--out', out, '--dynamic-batch',
                     '--check', *images])
    return dict(cfg=cfg, ckpt=ckpt, out=out, images=images, proc=proc, folder=folder)
