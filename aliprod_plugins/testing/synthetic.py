"""Generate a tiny data root in the AliProducts layout.

The layout is the one released by the challenge::

    root/
    ├── train.json   {"images": [{"class_id": "00000", "image_id": "0.jpg"}, ...]}
    ├── val.json     same schema
    ├── test.json    {"images": [{"image_id": "....jpg"}, ...]}
    ├── train/<class_id>/<image_id>
    ├── val/<class_id>/<image_id>
    └── test/<image_id>

Each class gets its own colour so that a tiny model can actually learn it.
"""
import json
import os.path as osp
from pathlib import Path
from typing import Optional, Sequence

import numpy as np
from PIL import Image


def write_image(path: str, color: Sequence[int], size: Sequence[int] = (40, 48),
                rng: Optional[np.random.Generator] = None) -> None:
    """Write a noisy solid-colour JPEG (or any format Pillow infers from the suffix).

    Args:
        path (str): Output file; parent folders are created.
        color (Sequence[int]): Base RGB colour.
        size (Sequence[int]): ``(height, width)``. Defaults to ``(40, 48)``.
        rng (np.random.Generator, optional): Noise source. Defaults to a fixed seed.
    """
    rng = rng if rng is not None else np.random.default_rng(0)
    h, w = size
    noise = rng.integers(-20, 21, size=(h, w, 3))
    img = np.clip(np.asarray(color, dtype=np.int64) + noise, 0, 255).astype(np.uint8)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(img).save(path)


def _class_color(label: int) -> np.ndarray:
    rng = np.random.default_rng(1000 + label)
    return rng.integers(0, 256, size=3)


def make_aliproducts_root(root: str, train_counts: Sequence[int],
                          val_counts: Optional[Sequence[int]] = None, num_test: int = 0,
                          size: Sequence[int] = (40, 48), seed: int = 0) -> str:
    """Write a small AliProducts-layout data root.

    Args:
        root (str): Folder to create.
        train_counts (Sequence[int]): Images per class in ``train``; a 0 leaves the class
            absent from the split (its id still exists).
        val_counts (Sequence[int], optional): Images per class in ``val``. Defaults to 2 per
            class.
        num_test (int): Unlabelled images in ``test``. Defaults to 0 (no test split).
        size (Sequence[int]): Image ``(height, width)``. Defaults to ``(40, 48)``.
        seed (int): Noise seed. Defaults to 0.

    Returns:
        str: ``root``.
    """
    rng = np.random.default_rng(seed)
    if val_counts is None:
        val_counts = [2] * len(train_counts)
    image_no = 0
    for split, counts in (('train', train_counts), ('val', val_counts)):
        entries = []
        for label, count in enumerate(counts):
            class_id = f'{label:05d}'
            for _ in range(int(count)):
                image_id = f'{image_no}.jpg'
                image_no += 1
                write_image(osp.join(root, split, class_id, image_id), _class_color(label),
                            size, rng)
                entries.append({'class_id': class_id, 'image_id': image_id})
        with open(osp.join(root, f'{split}.json'), 'w') as f:
            json.dump({'images': entries}, f)
    if num_test:
        entries = []
        for i in range(num_test):
            image_id = f'{image_no}.jpg'
            image_no += 1
            write_image(osp.join(root, 'test', image_id), _class_color(i % len(train_counts)),
                        size, rng)
            entries.append({'image_id': image_id})
        with open(osp.join(root, 'test.json'), 'w') as f:
            json.dump({'images': entries}, f)
    return root
