"""``LoadImageScaled``: a drop-in ``LoadImageFromFile`` that decodes JPEGs at reduced size."""
from typing import Optional

import numpy as np
from mmcv.transforms import BaseTransform
from mmengine import fileio
from mmpretrain.registry import TRANSFORMS

from ..checks import check_int
from .decode import CHANNEL_ORDERS, JPEG_BACKENDS, decode_image
from .errors import ImageLoadError


@TRANSFORMS.register_module()
class LoadImageScaled(BaseTransform):
    """Load an image, decoding JPEGs at the smallest DCT size that keeps ``min_size``.

    JPEGs are decoded at 1/2, 1/4 or 1/8 of their stored size, the largest reduction that
    leaves the shorter side ``>= min_size``; every other format is decoded at full size.
    Any mode (grayscale, palette, CMYK, RGBA / LA composited on white, 16-bit) comes out as
    HWC uint8 with 3 channels in ``channel_order``, with the EXIF orientation applied, like
    ``LoadImageFromFile`` with its defaults (OpenCV, ``'color'``, BGR; the data
    preprocessor's ``to_rgb=True`` converts). The format is detected from the content.

    Choosing ``min_size``: a JPEG of shorter side ``S >= min_size`` is decoded with shorter
    side in ``[min_size, 2 * min_size]`` (more only when ``S > 16 * min_size``, as 1/8 is the
    smallest scale); smaller images are decoded at full size.

    - test, ``ResizeEdge(scale=R)`` + ``CenterCrop``: ``min_size=R`` (128 for 112-px
      crops), so the resize only ever shrinks and the crop keeps full detail.
    - train, ``RandomResizedCrop(C, crop_ratio_range=(a, 1))``: the smallest crop spans
      ``sqrt(a)`` of the side, so it is upsampled at most ``C / (sqrt(a) * min_size)`` times
      (a full decode upsamples it only for images shorter than ``C / sqrt(a)``, 396 px).
      We use ``min_size=160`` for ``C=112, a=0.08``: at most 2.5x, and crops of more than
      half the area are never upsampled. That is the regime of the standard ImageNet
      recipe (RandomResizedCrop 224 on images of shorter side 333-500: 1.5-2.2x the crop,
      smallest crop upsampled up to 2.4x). ``min_size=200`` bounds it at 2x and 224 at 1.8x,
      at a cost in speed: a larger ``min_size`` decodes more pixels. The speed of each
      setting, against the stock loader and against LMDB packs (``tools/pack_lmdb.py``), is
      measured by ``benchmarks/bench_pipeline.py`` and ``benchmarks/bench_throughput.py``;
      their latest figures are in ``docs/performance.md`` (Image decoding and the loader).

    An image already in ``results['img']`` without an ``img_path`` (MMPretrain's
    ``ImageClassificationInferencer`` given an array, or any caller that decodes itself) is
    taken as it is: a BGR ``(H, W, 3)`` or grayscale ``(H, W)`` uint8 array, as ``mmcv.imread``
    returns, converted to 3 channels in ``channel_order`` (``decode_scale`` 1).

    Required Keys:

    - img_path, or img (an already decoded BGR image)

    Added Keys:

    - img: ``(H, W, 3)`` uint8 (float32 with ``to_float32``)
    - img_shape: ``(H, W)`` of ``img``
    - ori_shape: ``(H, W)`` of the full-size upright image stored in the file (unlike
      ``LoadImageFromFile``, this differs from ``img_shape`` when the JPEG was reduced)
    - decode_scale: the DCT denominator used, 1, 2, 4 or 8 (``ori_shape ~ img_shape * s``)

    Args:
        min_size (int, optional): Smallest shorter side a reduced JPEG may have. Defaults to
            None: decode at full size (still with the mode / EXIF / error handling).
        to_float32 (bool): Return a float32 image. Defaults to False.
        channel_order (str): ``'bgr'`` or ``'rgb'``. Defaults to ``'bgr'``.
        jpeg_backend (str): ``'simplejpeg'`` (fastest) or ``'pillow'`` (``Image.draft``).
            Defaults to ``'simplejpeg'``.
        backend_args (dict, optional): mmengine file backend arguments, as in
            ``LoadImageFromFile``. Defaults to None (local files).

    Raises:
        ImageLoadError: When the file is missing, unreadable, empty, truncated or not an
            image; the message names the full path and the reason. The dataset's
            ``on_error`` option decides what happens next.
    """

    def __init__(self,
                 min_size: Optional[int] = None,
                 to_float32: bool = False,
                 channel_order: str = 'bgr',
                 jpeg_backend: str = 'simplejpeg',
                 backend_args: Optional[dict] = None) -> None:
        check_int('min_size', min_size, low=1, allow_none=True, owner='LoadImageScaled')
        if channel_order not in CHANNEL_ORDERS:
            raise ValueError(f'LoadImageScaled: channel_order must be one of {CHANNEL_ORDERS}, '
                             f'got {channel_order!r}')
        if jpeg_backend not in JPEG_BACKENDS:
            raise ValueError(f'LoadImageScaled: jpeg_backend must be one of {JPEG_BACKENDS}, '
                             f'got {jpeg_backend!r}')
        self.min_size = min_size
        self.to_float32 = to_float32
        self.channel_order = channel_order
        self.jpeg_backend = jpeg_backend
        self.backend_args = None if backend_args is None else dict(backend_args)

    def transform(self, results: dict) -> dict:
        """Load ``results['img_path']``.

        Args:
            results (dict): Must hold ``img_path``, or ``img`` (an already decoded image).

        Returns:
            dict: ``results`` with the added keys listed in the class docstring.
        """
        if results.get('img_path') is None and results.get('img') is not None:
            return self._take_decoded(results)
        path = results['img_path']
        try:
            data = fileio.get(path, backend_args=self.backend_args)
        except FileNotFoundError:
            raise ImageLoadError(path, 'file not found') from None
        except OSError as err:
            raise ImageLoadError(path, f'cannot read file: {type(err).__name__}: {err}') from err
        img, full_hw, scale = decode_image(
            data, self.min_size, self.channel_order, self.jpeg_backend, path=str(path))
        if self.to_float32:
            img = img.astype(np.float32)
        results['img'] = img
        results['img_shape'] = img.shape[:2]
        results['ori_shape'] = full_hw
        results['decode_scale'] = scale
        return results

    def _take_decoded(self, results: dict) -> dict:
        """Accept an image decoded by the caller (BGR or grayscale uint8, as mmcv reads it)."""
        img = results['img']
        if not isinstance(img, np.ndarray) or img.dtype != np.uint8 or not (
                img.ndim == 2 or (img.ndim == 3 and img.shape[2] in (1, 3))):
            desc = (f'{img.dtype} array of shape {img.shape}' if isinstance(img, np.ndarray)
                    else type(img).__name__)
            raise ValueError(f'LoadImageScaled: expected results["img"] to be a uint8 BGR '
                             f'(H, W, 3) or grayscale (H, W) array, got {desc}')
        if img.ndim == 2 or img.shape[2] == 1:
            img = np.repeat(img.reshape(img.shape[0], img.shape[1], 1), 3, axis=2)
        elif self.channel_order == 'rgb':
            img = img[..., ::-1]
        img = np.ascontiguousarray(img, dtype=np.float32 if self.to_float32 else np.uint8)
        results['img'] = img
        results['img_shape'] = img.shape[:2]
        results['ori_shape'] = img.shape[:2]
        results['decode_scale'] = 1
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(min_size={self.min_size}, '
                f'to_float32={self.to_float32}, channel_order={self.channel_order!r}, '
                f'jpeg_backend={self.jpeg_backend!r}, backend_args={self.backend_args})')
