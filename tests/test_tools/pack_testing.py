"""Helpers of the LMDB pack tests: a photo-like data root and the packing tool in-process."""
import json
import os.path as osp
from pathlib import Path
from typing import Dict, Sequence

import conftest
import lmdb
import numpy as np
import pytest
from conftest import REPO_ROOT
from PIL import Image

from aliprod_plugins.testing.photo import photo_like

DEMO_CONFIG = osp.join(REPO_ROOT, 'configs', 'demo', 'digits_lt_stage1.py')
#: The demo's LoadImageScaled(min_size=32) gives the tool's default short side:
#: ceil(1.1 * 32 / 8) * 8 = 40 (computed here by hand, not by the tool).
DEMO_SHORT_SIDE = 40


def make_photo_root(root: Path, train_counts: Sequence[int], val_per_class: int = 2,
                    seed: int = 0) -> str:
    """An AliProducts-layout root of photo-like JPEGs (sides 56-120 px, quality 95).

    Every fifth image is a PNG named ``.jpg``, every seventh grayscale and every eleventh
    stored sideways with EXIF orientation 6, so packing goes through the loader's other paths.
    """
    rng = np.random.default_rng(seed)
    image_no = 0
    for split, counts in (('train', train_counts), ('val', [val_per_class] * len(train_counts))):
        entries = []
        for label, count in enumerate(counts):
            for _ in range(count):
                height, width = (int(s) for s in rng.integers(56, 121, size=2))
                img = photo_like(height, width, rng)
                path = root / split / f'{label:05d}' / f'{image_no}.jpg'
                path.parent.mkdir(parents=True, exist_ok=True)
                im = Image.fromarray(img)
                if image_no % 7 == 3:
                    im = im.convert('L')
                if image_no % 5 == 2:
                    im.save(path, 'PNG')
                elif image_no % 11 == 5:
                    exif = Image.Exif()
                    exif[0x0112] = 6  # upright = stored image rotated 90 degrees clockwise
                    im.transpose(Image.Transpose.ROTATE_90).save(path, 'JPEG', quality=95,
                                                                 exif=exif)
                else:
                    im.save(path, 'JPEG', quality=95)
                entries.append({'class_id': f'{label:05d}', 'image_id': f'{image_no}.jpg'})
                image_no += 1
        (root / f'{split}.json').write_text(json.dumps({'images': entries}))
    return str(root)


def load_tool():
    """``tools/pack_lmdb.py`` as a module (its ``main(argv)`` runs in this process)."""
    return conftest.load_tool('pack_lmdb')


def tool_fixture():
    """A module-scoped ``tool`` fixture: :func:`load_tool`."""
    @pytest.fixture(scope='module', name='tool')
    def tool():
        return load_tool()
    return tool


def photo_root_fixture(train_counts: Sequence[int]):
    """A module-scoped ``root`` fixture: :func:`make_photo_root` with ``train_counts``."""
    @pytest.fixture(scope='module', name='root')
    def root(tmp_path_factory):
        return make_photo_root(tmp_path_factory.mktemp('photo_root'), train_counts)
    return root


def read_pack(pack_dir: str) -> Dict[bytes, bytes]:
    """Every key and value of a pack (metadata keys ``__*`` too), read with plain lmdb."""
    with lmdb.open(pack_dir, readonly=True, lock=False) as env, env.begin() as txn:
        return {bytes(k): bytes(v) for k, v in txn.cursor()}


def demo_options(data_root: str, num_classes: int, *extra: str) -> list:
    """``--cfg-options`` pointing the demo config's three datasets at ``data_root``."""
    opts = []
    for split in ('train', 'val', 'test'):
        opts += [f'{split}_dataloader.dataset.data_root={data_root}',
                 f'{split}_dataloader.dataset.num_classes={num_classes}']
    return opts + list(extra)


def pack(tool, data_root: str, out: str, split: str = 'train', num_classes: int = 3,
         extra_options: Sequence[str] = (), args: Sequence[str] = ('--workers', '1')) -> None:
    """Run the packing tool on the demo config pointed at ``data_root``."""
    tool.main([DEMO_CONFIG, '--split', split, '--out', out, *args, '--cfg-options',
               *demo_options(data_root, num_classes, *extra_options)])
