"""The images of ``bench_throughput.py``: real-photo crops or synthetic JPEGs, as a split."""
import os
import os.path as osp

import cv2
import numpy as np
from bench_pipeline import photo_like_jpeg


def real_photo_jpegs(num: int, seed: int):
    """Crops of scikit-learn's sample photos (427 x 640) resized to sides of 600-1000 px, q90."""
    from sklearn.datasets import load_sample_images
    photos = [cv2.cvtColor(p, cv2.COLOR_RGB2BGR) for p in load_sample_images().images]
    rng = np.random.default_rng(seed)
    for i in range(num):
        photo = photos[i % len(photos)]
        height, width = (int(s) for s in rng.integers(600, 1001, size=2))
        # the largest box of the target's aspect, scaled by 0.5-1, at a random place
        fit = min(photo.shape[0] / height, photo.shape[1] / width) * rng.uniform(0.5, 1.0)
        box_h, box_w = int(height * fit), int(width * fit)
        top = int(rng.integers(0, photo.shape[0] - box_h + 1))
        left = int(rng.integers(0, photo.shape[1] - box_w + 1))
        img = cv2.resize(photo[top:top + box_h, left:left + box_w], (width, height),
                         interpolation=cv2.INTER_CUBIC)
        yield cv2.imencode('.jpg', img[:, ::-1] if i % 4 >= 2 else img,
                           [cv2.IMWRITE_JPEG_QUALITY, 90])[1].tobytes()


def synthetic_jpegs(num: int, seed: int):
    """``bench_pipeline.py``'s photo-like synthetic JPEGs, sides of 600-1000 px."""
    rng = np.random.default_rng(seed)
    for _ in range(num):
        height, width = (int(s) for s in rng.integers(600, 1001, size=2))
        yield photo_like_jpeg(rng, height, width)


def write_root(root: str, jpegs, classes: int = 100) -> int:
    """Write an AliProducts-layout train split; return the source bytes."""
    entries, total = [], 0
    for i, data in enumerate(jpegs):
        class_id = f'{i % classes:05d}'
        os.makedirs(osp.join(root, 'train', class_id), exist_ok=True)
        with open(osp.join(root, 'train', class_id, f'{i}.jpg'), 'wb') as f:
            f.write(data)
        entries.append(f'{{"class_id": "{class_id}", "image_id": "{i}.jpg"}}')
        total += len(data)
    with open(osp.join(root, 'train.json'), 'w') as f:
        f.write('{"images": [' + ', '.join(entries) + ']}')
    return total
