"""Decode image bytes to an upright 3-channel uint8 array, JPEGs at a DCT-reduced size.

libjpeg can run its inverse DCT at 1/2, 1/4 or 1/8 of the stored size, which skips most of
the IDCT, colour conversion and memory traffic of a full decode. :func:`dct_scale` picks the
largest such reduction that keeps the shorter side at least ``min_size``.

Backends: ``simplejpeg`` (libjpeg-turbo with a TurboJPEG-style API, manylinux wheels)
decodes straight to BGR and is the default; Pillow's ``Image.draft`` does the same reduction
but makes the train pipeline slower (``benchmarks/bench_pipeline.py``; figures in
``docs/performance.md``, Image decoding and the loader). Pillow remains the path for CMYK /
YCCK JPEGs and for files the strict fast path rejects. PyTurboJPEG was not an option: it
needs a system ``libturbojpeg`` that no PyPI wheel ships. libjpeg-turbo's other factors (3/8,
5/8, ...) have no SIMD IDCT and decode slower than 1/2, so only powers of two are used. Every
other format (PNG, WebP, GIF, BMP, TIFF, ...) goes through Pillow, chosen by content, so a
PNG named ``.jpg`` decodes.

Quality: on the DCT grid a 1/s decode matches a full decode followed by
``cv2.resize(..., INTER_AREA)`` within a mean absolute difference of 1 grey level
(``tests/test_transforms/test_reduced_decode.py`` holds it to that bound).
"""
import io
from typing import Optional, Tuple

import cv2
import numpy as np
import simplejpeg
from PIL import Image, UnidentifiedImageError

from .errors import ImageLoadError
from .exif import ORIENTATION_TAG, apply_orientation, jpeg_exif_orientation
from .modes import pil_to_rgb8

DCT_SCALES = (8, 4, 2, 1)
JPEG_BACKENDS = ('simplejpeg', 'pillow')
CHANNEL_ORDERS = ('bgr', 'rgb')
_MAGIC = (
    (b'\xff\xd8\xff', 'jpeg'),
    (b'\x89PNG\r\n\x1a\n', 'png'),
    (b'GIF87a', 'gif'),
    (b'GIF89a', 'gif'),
    (b'BM', 'bmp'),
    (b'II*\x00', 'tiff'),
    (b'MM\x00*', 'tiff'),
)


def sniff_format(data: bytes) -> str:
    """Name the image format from the leading bytes (the file name is not trusted).

    Args:
        data (bytes): File content.

    Returns:
        str: ``'jpeg'``, ``'png'``, ``'gif'``, ``'webp'``, ``'bmp'``, ``'tiff'`` or
        ``'unknown'`` (Pillow still gets a try at those).
    """
    if data[:4] == b'RIFF' and data[8:12] == b'WEBP':
        return 'webp'
    for magic, name in _MAGIC:
        if data.startswith(magic):
            return name
    return 'unknown'


def dct_scale(short_side: int, min_size: Optional[int]) -> int:
    """Largest DCT reduction ``s`` in (8, 4, 2, 1) with ``short_side // s >= min_size``.

    Args:
        short_side (int): Shorter side of the stored image.
        min_size (int, optional): Smallest acceptable shorter side; None decodes full size.

    Returns:
        int: The denominator ``s``; the decoded sides are ``ceil(side / s)``.
    """
    if min_size is None:
        return 1
    for scale in DCT_SCALES:
        if short_side // scale >= min_size:
            return scale
    return 1


def decode_image(data: bytes,
                 min_size: Optional[int] = None,
                 channel_order: str = 'bgr',
                 jpeg_backend: str = 'simplejpeg',
                 path: str = '<bytes>') -> Tuple[np.ndarray, Tuple[int, int], int]:
    """Decode any supported image to an upright ``(H, W, 3)`` uint8 array.

    Args:
        data (bytes): File content.
        min_size (int, optional): See :func:`dct_scale`; only JPEGs are reduced.
            Defaults to None (full size).
        channel_order (str): ``'bgr'`` (mmcv's default) or ``'rgb'``. Defaults to ``'bgr'``.
        jpeg_backend (str): ``'simplejpeg'`` or ``'pillow'``. Defaults to ``'simplejpeg'``.
        path (str): Used in error messages only.

    Returns:
        tuple: ``(img, (full_h, full_w), scale)``: the image, the upright size of the image
        stored in the file, and the DCT denominator used (1 when not reduced).

    Raises:
        ImageLoadError: Empty, truncated, corrupt or unrecognised data.
    """
    if not data:
        raise ImageLoadError(path, 'empty file (0 bytes)')
    fmt = sniff_format(data)
    fast_error = None
    if fmt == 'jpeg' and jpeg_backend == 'simplejpeg':
        try:
            decoded = _decode_jpeg_simplejpeg(data, min_size, channel_order)
        except ValueError as err:
            # strict mode also rejects warnings (e.g. extraneous bytes) that Pillow and
            # OpenCV accept; let Pillow decide, it still raises on real truncation
            decoded, fast_error = None, err
        if decoded is not None:
            return decoded
    try:
        return _decode_pillow(data, min_size, channel_order)
    except Exception as err:  # Pillow raises OSError, SyntaxError, ValueError, struct.error...
        raise ImageLoadError(path, _reason(fmt, data, err, fast_error)) from err


def _decode_jpeg_simplejpeg(data: bytes, min_size: Optional[int],
                            channel_order: str) -> Optional[Tuple[np.ndarray, tuple, int]]:
    """Fast path; returns None for CMYK / YCCK JPEGs, which Pillow converts correctly."""
    height, width, colorspace, _ = simplejpeg.decode_jpeg_header(data)
    if colorspace not in ('YCbCr', 'Gray', 'RGB'):
        return None
    scale = dct_scale(min(height, width), min_size)
    img = simplejpeg.decode_jpeg(
        data,
        colorspace=channel_order.upper(),
        min_height=-(-height // scale),
        min_width=-(-width // scale))
    orientation = jpeg_exif_orientation(data)
    return _upright(img, (height, width), scale, orientation)


def _decode_pillow(data: bytes, min_size: Optional[int],
                   channel_order: str) -> Tuple[np.ndarray, tuple, int]:
    with Image.open(io.BytesIO(data)) as im:
        width, height = im.size
        scale = 1
        if im.format == 'JPEG':
            scale = dct_scale(min(height, width), min_size)
            if scale > 1:
                # draft() picks the largest power of two <= min(w // rw, h // rh), i.e. scale
                im.draft(im.mode, (width // scale, height // scale))
        im.load()
        orientation = im.getexif().get(ORIENTATION_TAG, 1)
        img = pil_to_rgb8(im)
    if channel_order == 'bgr':
        img = cv2.cvtColor(img, cv2.COLOR_RGB2BGR)
    elif not img.flags.writeable:  # np.asarray on a Pillow image is read-only
        img = img.copy()
    return _upright(img, (height, width), scale, orientation)


def _upright(img: np.ndarray, stored_hw: tuple, scale: int, orientation) -> tuple:
    orientation = orientation if isinstance(orientation, int) else 1
    full_hw = stored_hw[::-1] if orientation in (5, 6, 7, 8) else stored_hw
    return apply_orientation(img, orientation), tuple(full_hw), scale


def _reason(fmt: str, data: bytes, err: Exception, fast_error: Optional[Exception]) -> str:
    if isinstance(err, UnidentifiedImageError) and fmt == 'unknown':
        return f'unrecognised image data ({len(data)} bytes, starting {data[:12]!r})'
    reason = f'corrupt or truncated {fmt} data ({len(data)} bytes): {type(err).__name__}: {err}'
    if fast_error is not None:
        reason += f'; libjpeg-turbo: {fast_error}'
    return reason
