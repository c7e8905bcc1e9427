"""Helpers of the LMDB pack tests: a photo-like data root and the packing tool in-process."""
import json
import os.path as osp
from pathlib import Path
from typing import Sequence

import cv2
import numpy as np
from PIL import Image

from conftest import REPO_ROOT
from tool_loading import load_tool_module

DEMO_CONFIG = osp.join(REPO_ROOT, 'configs', 'demo', 'digits_lt_stage1.py')
#: The demo's LoadImageScaled(min_size=32) gives the tool's default short side:
#: ceil(1.1 * 32 / 8) * 8 = 40 (computed here by hand, not by the tool).
DEMO_SHORT_SIDE = 40


def photo_like(height: int, width: int, rng: np.random.Generator) -> np.ndarray:
    """RGB uint8: gradient, sharp-edged ellipses, mild blur and noise (not a flat colour)."""
    ramp = np.linspace(0, 1, width, dtype=np.float32)[None, :, None]
    down = np.linspace(0, 1, height, dtype=np.float32)[:, None, None]
    tint = rng.uniform(0.2, 1.0, size=3).astype(np.float32)
    img = (30 + 150 * ramp * tint + 60 * down).astype(np.uint8)
    for _ in range(6):
        centre = tuple(int(c) for c in rng.integers(0, (width, height)))
        axes = tuple(int(a) for a in rng.integers(3, max(4, max(height, width) // 3), size=2))
        colour = tuple(int(c) for c in rng.integers(0, 256, size=3))
        cv2.ellipse(img, centre, axes, float(rng.uniform(0, 180)), 0, 360, colour, -1)
    img = cv2.GaussianBlur(img, (0, 0), 1.0)
    return np.clip(img + rng.normal(0, 3, size=img.shape), 0, 255).astype(np.uint8)


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
    return load_tool_module('pack_lmdb')


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
