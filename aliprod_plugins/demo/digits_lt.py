"""Build Digits-LT: a long-tailed dataset in the AliProducts layout from scikit-learn's digits.

scikit-learn bundles 1,797 real 8x8 handwritten digits (10 classes), so nothing is downloaded.
The builder holds out a balanced validation split and keeps an exponential class-size profile
for training, ``n_c = n_max * ratio ** (-rank_c / (C - 1))``, so that with the defaults the
head has more than 100 images, some classes 20-100 and the tail fewer than 20. An unlabelled
test split (for ``tools/test.py --split test --submission``) takes up to ``test_per_class``
of the images each class has left over, in an order shuffled by its own random stream, so
the training and validation images are those of a build without it. Images are written as
real 32-px grayscale JPEGs, so the real loading pipeline runs::

    root/
    ├── train.json  val.json   {"images": [{"class_id": "00003", "image_id": "17.jpg"}, ...]}
    ├── test.json              {"images": [{"image_id": "1203.jpg"}, ...]}  (no labels)
    ├── train/<class_id>/<image_id>
    ├── val/<class_id>/<image_id>
    └── test/<image_id>

An image id is the digit's index in scikit-learn's ``load_digits()``.
"""
import json
import os.path as osp
from pathlib import Path
from typing import Dict, List

import numpy as np
from PIL import Image

from ..checks import check_int, check_number


def long_tail_profile(num_classes: int, n_max: int, imbalance_ratio: float) -> np.ndarray:
    """Return exponentially decaying class sizes from ``n_max`` down to ``n_max / ratio``.

    Args:
        num_classes (int): Number of classes.
        n_max (int): Size of the largest class.
        imbalance_ratio (float): Largest over smallest class size, >= 1.

    Returns:
        np.ndarray: int64 sizes, largest first, each at least 1.
    """
    check_number('imbalance_ratio', imbalance_ratio, low=1, owner='long_tail_profile')
    exponents = np.arange(num_classes) / max(num_classes - 1, 1)
    return np.maximum(np.round(n_max * imbalance_ratio ** (-exponents)), 1).astype(np.int64)


def build_digits_lt(root: str, imbalance_ratio: float = 40.0, val_per_class: int = 40,
                    n_max: int = 130, seed: int = 0, image_size: int = 32,
                    test_per_class: int = 10) -> Dict[str, List[int]]:
    """Write Digits-LT under ``root`` and return the per-class counts of each split.

    Which digit is the head is shuffled by ``seed``, so class 0 is not always the largest.

    Args:
        root (str): Output folder.
        imbalance_ratio (float): Largest / smallest training class. Defaults to 40.
        val_per_class (int): Balanced validation images per class. Defaults to 40.
        n_max (int): Training images of the largest class. Defaults to 130.
        seed (int): Seed of the split and of the head order. Defaults to 0.
        image_size (int): Side of the written images. Defaults to 32.
        test_per_class (int): Unlabelled test images per class, at most (fewer where a class
            has fewer left over; 0 writes no test split). Defaults to 10.

    Returns:
        dict: ``{'train': [count per class], 'val': [...], 'test': [...]}``.
    """
    check_int('test_per_class', test_per_class, low=0, owner='build_digits_lt')
    from sklearn.datasets import load_digits
    digits = load_digits()
    images, labels = digits.images, digits.target.astype(np.int64)
    num_classes = int(labels.max()) + 1
    available = np.bincount(labels, minlength=num_classes) - val_per_class
    if n_max > available.min():
        raise ValueError(f'n_max must be <= {available.min()} (images per class left after '
                         f'{val_per_class} validation images), got {n_max}')
    rng = np.random.default_rng(seed)
    sizes = np.empty(num_classes, dtype=np.int64)
    sizes[rng.permutation(num_classes)] = long_tail_profile(num_classes, n_max, imbalance_ratio)

    order = rng.permutation(len(labels))
    # stable sort by label keeps the random order within each class
    order = order[np.argsort(labels[order], kind='stable')]
    starts = np.concatenate([[0], np.cumsum(np.bincount(labels, minlength=num_classes))[:-1]])
    ends = starts + np.bincount(labels, minlength=num_classes)
    counts = {'train': [], 'val': [], 'test': []}
    entries = {'train': [], 'val': []}
    test = []
    for c in range(num_classes):
        idx = order[starts[c]:starts[c] + val_per_class + sizes[c]]
        for split, part in (('val', idx[:val_per_class]), ('train', idx[val_per_class:])):
            counts[split].append(int(len(part)))
            for i in part:
                image_id = f'{int(i)}.jpg'
                _write_digit(osp.join(root, split, f'{c:05d}', image_id), images[i], image_size)
                entries[split].append({'class_id': f'{c:05d}', 'image_id': image_id})
        left = order[starts[c] + val_per_class + sizes[c]:ends[c]]
        test.extend(left[:test_per_class].tolist())
        counts['test'].append(int(min(len(left), test_per_class)))
    for split, items in entries.items():
        with open(osp.join(root, f'{split}.json'), 'w') as f:
            json.dump({'images': items}, f)
    if test:
        # a stream of its own (not `rng`): the splits above are those of a build without test
        test = np.random.default_rng([seed, 1]).permutation(test)
        for i in test.tolist():
            _write_digit(osp.join(root, 'test', f'{i}.jpg'), images[i], image_size)
        with open(osp.join(root, 'test.json'), 'w') as f:
            json.dump({'images': [{'image_id': f'{i}.jpg'} for i in test.tolist()]}, f)
    return counts


def _write_digit(path: str, image: np.ndarray, size: int) -> None:
    pixels = np.clip(image * (255.0 / 16.0), 0, 255).astype(np.uint8)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels, mode='L').resize((size, size), Image.BILINEAR).save(path, quality=95)
