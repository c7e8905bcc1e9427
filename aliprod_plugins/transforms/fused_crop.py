"""``RandomResizedCropFlipPack``: crop, resize, flip and pack a decoded image in one step.

The stage-1 train pipeline after decoding is four generic transforms::

    dict(type='RandomResizedCrop', scale=112, crop_ratio_range=(0.08, 1.0)),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),

On a small packed JPEG they take most of the per-image time (parameter draws through
``np.random.choice``, ``mmcv.imcrop``'s box arithmetic, a flipped copy, a transposed copy, the
``DataSample`` fields one by one; the gain of fusing them is in ``docs/performance.md``,
Packed data). This transform does the same work once:

- the crop is drawn by the same NumPy calls in the same order as MMPretrain's
  ``RandomResizedCrop`` (``uniform`` area, ``uniform`` log aspect ratio, ``randint``
  offsets, up to ``max_attempts`` tries, then its centre-crop fallback), and the flip by one
  ``random_sample()`` against ``flip_prob``, exactly what ``RandomFlip``'s
  ``np.random.choice([direction, None], p=[prob, 1 - prob])`` consumes and decides; so with
  the same global NumPy state (``sample_rng``'s per-(seed, epoch, position) seeding) the
  output is identical to the three transforms', pixel for pixel;
- the crop is a view resized by one ``cv2.resize`` call (as ``mmcv.imresize`` makes it); a
  flip and the HWC -> CHW transpose are one copy;
- the ``DataSample`` gets the label and ``PackInputs``' default meta keys.
"""
import math
from typing import Sequence, Tuple, Union

import cv2
import numpy as np
import torch
from mmcv.transforms import BaseTransform
from mmpretrain.registry import TRANSFORMS
from mmpretrain.structures import DataSample

from ..checks import check_int, check_number

INTERPOLATIONS = {'nearest': cv2.INTER_NEAREST, 'bilinear': cv2.INTER_LINEAR,
                  'bicubic': cv2.INTER_CUBIC, 'area': cv2.INTER_AREA,
                  'lanczos': cv2.INTER_LANCZOS4}
META_KEYS = ('sample_idx', 'img_path', 'ori_shape', 'img_shape', 'scale_factor', 'flip',
             'flip_direction')  # PackInputs.DEFAULT_META_KEYS


@TRANSFORMS.register_module()
class RandomResizedCropFlipPack(BaseTransform):
    """``RandomResizedCrop`` + horizontal ``RandomFlip`` + ``PackInputs``, fused.

    Args:
        scale (int | Sequence[int]): Output size, ``(h, w)`` or one int for a square.
        crop_ratio_range (tuple[float, float]): Range of the crop's area relative to the
            image. Defaults to (0.08, 1.0).
        aspect_ratio_range (tuple[float, float]): Range of the crop's aspect ratio.
            Defaults to (3. / 4., 4. / 3.).
        max_attempts (int): Draws before the centre-crop fallback. Defaults to 10.
        interpolation (str): One of ``INTERPOLATIONS``. Defaults to 'bilinear'.
        flip_prob (float): Probability of a horizontal flip; 0 draws nothing (as a pipeline
            without ``RandomFlip``). Defaults to 0.5.
    """

    def __init__(self,
                 scale: Union[int, Sequence[int]],
                 crop_ratio_range: Tuple[float, float] = (0.08, 1.0),
                 aspect_ratio_range: Tuple[float, float] = (3. / 4., 4. / 3.),
                 max_attempts: int = 10,
                 interpolation: str = 'bilinear',
                 flip_prob: float = 0.5) -> None:
        size = tuple(scale) if isinstance(scale, Sequence) else (scale, scale)
        try:
            if len(size) != 2:
                raise ValueError
            size = tuple(check_int('scale', s, low=1) for s in size)
        except ValueError:
            raise ValueError(f'RandomResizedCropFlipPack: scale expected an int >= 1 or '
                             f'(h, w) of ints >= 1, got {scale!r}') from None
        for name, rng in (('crop_ratio_range', crop_ratio_range),
                          ('aspect_ratio_range', aspect_ratio_range)):
            if len(rng) != 2 or not 0 < rng[0] <= rng[1]:
                raise ValueError(f'RandomResizedCropFlipPack: {name} expected (min, max) with '
                                 f'0 < min <= max, got {rng!r}')
        check_int('max_attempts', max_attempts, low=0, owner='RandomResizedCropFlipPack')
        if interpolation not in INTERPOLATIONS:
            raise ValueError(f'RandomResizedCropFlipPack: interpolation expected one of '
                             f'{sorted(INTERPOLATIONS)}, got {interpolation!r}')
        check_number('flip_prob', flip_prob, low=0, high=1, owner='RandomResizedCropFlipPack')
        self.scale = size
        self.crop_ratio_range = tuple(crop_ratio_range)
        self.aspect_ratio_range = tuple(aspect_ratio_range)
        self.max_attempts = max_attempts
        self.interpolation = interpolation
        self.flip_prob = float(flip_prob)
        # np.random.choice([dir, None], p=[prob, 1 - prob]) normalises its cumulative sum
        self._flip_cdf = self.flip_prob / (self.flip_prob + (1. - self.flip_prob))
        self._log_ratio = (math.log(aspect_ratio_range[0]), math.log(aspect_ratio_range[1]))

    def crop_params(self, h: int, w: int) -> Tuple[int, int, int, int]:
        """``(top, left, height, width)``, drawn as ``RandomResizedCrop.rand_crop_params``."""
        area = h * w
        uniform, randint = np.random.uniform, np.random.randint
        for _ in range(self.max_attempts):
            target_area = uniform(*self.crop_ratio_range) * area
            aspect_ratio = math.exp(uniform(*self._log_ratio))
            target_w = int(round(math.sqrt(target_area * aspect_ratio)))
            target_h = int(round(math.sqrt(target_area / aspect_ratio)))
            if 0 < target_w <= w and 0 < target_h <= h:
                return randint(0, h - target_h + 1), randint(0, w - target_w + 1), \
                    target_h, target_w
        in_ratio = float(w) / float(h)  # the centre-crop fallback
        low, high = min(self.aspect_ratio_range), max(self.aspect_ratio_range)
        if in_ratio < low:
            target_w, target_h = w, int(round(w / low))
        elif in_ratio > high:
            target_h, target_w = h, int(round(h * high))
        else:
            target_h, target_w = h, w
        return (h - target_h) // 2, (w - target_w) // 2, target_h, target_w

    def transform(self, results: dict) -> dict:
        """Crop, resize, maybe flip ``results['img']``; return ``inputs`` + ``data_samples``."""
        img = results['img']
        top, left, height, width = self.crop_params(*img.shape[:2])
        out = cv2.resize(img[top:top + height, left:left + width],
                         (self.scale[1], self.scale[0]),
                         interpolation=INTERPOLATIONS[self.interpolation])
        meta = dict(results, img_shape=out.shape)
        if out.ndim == 2:  # grayscale: one channel, as PackInputs makes it
            out = out[..., None]
        flip = False
        if self.flip_prob > 0:  # RandomFlip's choice: index 0 ("flip") iff u < cdf[0]
            flip = bool(np.random.random_sample() < self._flip_cdf)
            meta.update(flip=flip, flip_direction='horizontal' if flip else None)
        if flip:
            inputs = torch.from_numpy(np.ascontiguousarray(out[:, ::-1].transpose(2, 0, 1)))
        else:
            inputs = torch.from_numpy(out).permute(2, 0, 1).contiguous()
        sample = DataSample()
        if 'gt_label' in results:
            sample.set_gt_label(results['gt_label'])
        for key in META_KEYS:  # as PackInputs sets them (set_metainfo would deep-copy)
            if key in meta:
                sample.set_field(meta[key], key, field_type='metainfo')
        return dict(inputs=inputs, data_samples=sample)

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(scale={self.scale}, crop_ratio_range='
                f'{self.crop_ratio_range}, aspect_ratio_range={self.aspect_ratio_range}, '
                f'max_attempts={self.max_attempts}, interpolation={self.interpolation}, '
                f'flip_prob={self.flip_prob})')
