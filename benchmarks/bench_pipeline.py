"""Images per second of the 112-px train / test pipelines: stock loader vs ``LoadImageScaled``.

Writes photo-like JPEGs of catalogue sizes (sides drawn in 600-1000 px, smooth gradients,
blurred shapes and sensor-like noise, quality 90) to a temporary folder, then times, in one
process and single-threaded (as in a DataLoader worker: torch 1 thread, OpenCV threads off):

    train: load, RandomResizedCrop(112, crop_ratio_range=(0.08, 1)), RandomFlip(0.5), PackInputs
    test:  load, ResizeEdge(128, edge='short'), CenterCrop(112), PackInputs

with ``load`` = MMPretrain's ``LoadImageFromFile`` (OpenCV full decode) or ``LoadImageScaled``
(libjpeg DCT-reduced decode; several ``min_size`` values, and the Pillow backend). The
variants are interleaved chunk by chunk (20 images) and each chunk's best of ``--rounds``
passes is kept, so that load from other processes hits all variants alike.

These synthetic images are smoother than real photos: they carry fewer DCT coefficients, so the
Huffman decoding that a reduced decode cannot skip weighs less and ``LoadImageScaled`` looks
better here (~2.0x the stock train pipeline) than on real photos (1.3-1.5x on crops of
scikit-learn's sample photos, ``benchmarks/bench_throughput.py``, which also times LMDB packs).

Usage::

    python benchmarks/bench_pipeline.py                # ~1-2 minutes on 2 cores
    python benchmarks/bench_pipeline.py --num-images 100 --rounds 2
"""
import argparse
import os
import os.path as osp
import tempfile
import time

import cv2
import numpy as np
import torch
from mmcv.transforms import Compose
from mmengine.registry import init_default_scope

import aliprod_plugins  # noqa: F401  registration only


def photo_like_jpeg(rng: np.random.Generator, height: int, width: int, quality: int = 90) -> bytes:
    """Encode a synthetic product-photo-like image: gradient, soft shapes, mild noise."""
    ramp_y = np.linspace(0, 0.5, height, dtype=np.float32)[:, None, None]
    ramp_x = np.linspace(0, 0.5, width, dtype=np.float32)[None, :, None]
    start, delta_x, delta_y = rng.uniform(-128, 255, size=(3, 3)).astype(np.float32)
    img = np.clip(start + ramp_x * delta_x + ramp_y * delta_y, 0, 255).astype(np.uint8)
    for _ in range(int(rng.integers(6, 14))):
        centre = tuple(int(c) for c in rng.integers(0, (width, height)))
        axes = tuple(int(a) for a in rng.integers(15, max(width, height) // 4, size=2))
        colour = tuple(int(c) for c in rng.integers(0, 256, size=3))
        if rng.random() < 0.5:
            cv2.ellipse(img, centre, axes, float(rng.uniform(0, 180)), 0, 360, colour, -1)
        else:
            corner = (centre[0] + axes[0], centre[1] + axes[1])
            cv2.rectangle(img, centre, corner, colour, -1)
    img = cv2.GaussianBlur(img, (0, 0), 1.5)
    noise = rng.standard_normal(size=img.shape, dtype=np.float32) * 3
    img = np.clip(img + noise, 0, 255).astype(np.uint8)
    return cv2.imencode('.jpg', img, [cv2.IMWRITE_JPEG_QUALITY, quality])[1].tobytes()


def write_images(folder: str, num: int, seed: int) -> list:
    rng = np.random.default_rng(seed)
    paths = []
    for i in range(num):
        height, width = (int(s) for s in rng.integers(600, 1001, size=2))
        path = osp.join(folder, f'{i:05d}.jpg')
        with open(path, 'wb') as f:
            f.write(photo_like_jpeg(rng, height, width))
        paths.append(path)
    return paths


def pipelines(train_sizes: list, test_min: int) -> dict:
    train_tail = [
        dict(type='RandomResizedCrop', scale=112, crop_ratio_range=(0.08, 1.0)),
        dict(type='RandomFlip', prob=0.5, direction='horizontal'),
        dict(type='PackInputs'),
    ]
    test_tail = [
        dict(type='ResizeEdge', scale=128, edge='short'),
        dict(type='CenterCrop', crop_size=112),
        dict(type='PackInputs'),
    ]
    stock = dict(type='LoadImageFromFile')
    train = {'train stock LoadImageFromFile': [stock] + train_tail}
    for size in train_sizes:
        load = dict(type='LoadImageScaled', min_size=size)
        train[f'train LoadImageScaled(min_size={size})'] = [load] + train_tail
    load = dict(type='LoadImageScaled', min_size=train_sizes[0], jpeg_backend='pillow')
    train[f'train LoadImageScaled(min_size={train_sizes[0]}, pillow)'] = [load] + train_tail
    return {
        **train,
        'test stock LoadImageFromFile': [stock] + test_tail,
        f'test LoadImageScaled(min_size={test_min})':
        [dict(type='LoadImageScaled', min_size=test_min)] + test_tail,
    }


def time_pass(pipeline: Compose, paths: list) -> float:
    start = time.perf_counter()
    for i, path in enumerate(paths):
        pipeline(dict(img_path=path, gt_label=0, sample_idx=i))
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--num-images', type=int, default=300, help='(default: 300)')
    parser.add_argument('--rounds', type=int, default=3, help='(default: 3)')
    parser.add_argument(
        '--train-min-sizes',
        type=int,
        nargs='+',
        default=[160, 112, 128, 200, 224],
        help='min_size values for the train pipeline; the first one is also timed with the '
        'Pillow backend (default: 160 112 128 200 224)')
    parser.add_argument('--test-min-size', type=int, default=128, help='(default: 128)')
    parser.add_argument('--seed', type=int, default=0, help='(default: 0)')
    args = parser.parse_args()

    # a DataLoader worker runs single-threaded: torch sets 1 thread there, mmengine's mp_cfg
    # turns OpenCV's off (with 2 torch threads, PackInputs' permute alone costs ~1 ms here)
    torch.set_num_threads(1)
    cv2.setNumThreads(0)
    init_default_scope('mmpretrain')
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        paths = write_images(folder, args.num_images, args.seed)
        sizes = np.array([os.path.getsize(p) for p in paths]) / 1024
        print(f'{len(paths)} JPEGs, sides 600-1000 px, quality 90, '
              f'{sizes.mean():.0f} KiB on average (written in {time.perf_counter() - start:.1f} s)')
        built = {
            name: Compose(cfg)
            for name, cfg in pipelines(args.train_min_sizes, args.test_min_size).items()
        }
        for pipeline in built.values():  # warm up: imports, allocators, page cache
            time_pass(pipeline, paths[:20])
        # per chunk of 20 images, the best of the rounds; chunks interleave all variants, so a
        # burst of load from other processes costs each variant a round, not a result
        chunks = [paths[i:i + 20] for i in range(0, len(paths), 20)]
        best = {name: [float('inf')] * len(chunks) for name in built}
        for _ in range(args.rounds):
            for c, chunk in enumerate(chunks):
                for name, pipeline in built.items():
                    best[name][c] = min(best[name][c], time_pass(pipeline, chunk))
    rates = {name: len(paths) / sum(seconds) for name, seconds in best.items()}
    print(f'best of {args.rounds} rounds per 20-image chunk, one process, one thread')
    for split in ('train', 'test'):
        names = [n for n in rates if n.startswith(split)]
        stock = rates[names[0]]
        for name in names:
            print(f'  {name:50s} {rates[name]:7.1f} img/s  {rates[name] / stock:5.2f}x')


if __name__ == '__main__':
    main()
