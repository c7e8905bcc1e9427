"""Label flips with known ground truth, and the cleaner's precision / recall against them.

Used by ``bench_methods.py``. The flipped split is a list file (``<class>/<image> <label>``
under the same ``train/`` folder), since in the AliProducts JSON layout the class id is also
the image's folder.
"""
import csv
import json
import os
import os.path as osp
from typing import Dict, Set, Tuple

import numpy as np


def flip_labels(root: str, out: str, fraction: float, seed: int = 0) -> Tuple[str, Set[str]]:
    """Write ``root/train.json`` as a list file with ``fraction`` of the labels flipped.

    Each flipped label is drawn uniformly from the other classes (symmetric noise).

    Args:
        root (str): An AliProducts-layout root.
        out (str): List file to write.
        fraction (float): Fraction of images whose label is flipped, in [0, 1).
        seed (int): Seed of the choice of images and of their new labels. Defaults to 0.

    Returns:
        tuple[str, set[str]]: ``out`` and the relative paths of the flipped images.
    """
    if not 0 <= fraction < 1:
        raise ValueError(f'fraction must lie in [0, 1), got {fraction!r}')
    with open(osp.join(root, 'train.json')) as f:
        images = json.load(f)['images']
    labels = np.array([int(e['class_id']) for e in images])
    paths = [f'{e["class_id"]}/{e["image_id"]}' for e in images]
    num_classes = int(labels.max()) + 1
    rng = np.random.default_rng(seed)
    flip = rng.permutation(len(labels))[:int(round(fraction * len(labels)))]
    noisy = labels.copy()
    # a shift of 1..C-1 classes: uniform over the other classes, never the true one
    noisy[flip] = (labels[flip] + rng.integers(1, num_classes, len(flip))) % num_classes
    # benchmark processes run side by side write the same content: replace, never truncate
    tmp = f'{out}.{os.getpid()}.tmp'
    with open(tmp, 'w') as f:
        f.writelines(f'{p} {int(n)}\n' for p, n in zip(paths, noisy))
    os.replace(tmp, out)
    return out, {paths[i] for i in flip}


def precision_recall(removed_csv: str, flipped: Set[str]) -> Dict[str, float]:
    """Precision and recall of the removed images (``clean_labels.py``'s CSV) as flips."""
    with open(removed_csv) as f:
        removed = {row['path'] for row in csv.DictReader(f)}
    hits = len(removed & flipped)
    return dict(removed=len(removed), flipped=len(flipped), correct=hits,
                precision=hits / len(removed) if removed else float('nan'),
                recall=hits / len(flipped) if flipped else float('nan'))
