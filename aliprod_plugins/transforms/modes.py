"""Bring a decoded Pillow image of any mode to 3-channel 8-bit RGB.

Catalogue images come as grayscale, palette, CMYK (including Adobe's inverted CMYK JPEGs,
which Pillow's decoder already un-inverts), RGBA / LA / palette-with-transparency PNGs and
16-bit PNGs. Alpha is composited on white, the background product photos are shot on, rather
than dropped (which would turn transparent pixels into whatever colour they happen to hold,
often black).
"""
import numpy as np
from PIL import Image

_ALPHA_MODES = {'RGBA', 'LA', 'PA', 'RGBa', 'La'}
_WIDE_GRAY_MODES = {'I;16', 'I;16L', 'I;16B', 'I;16N', 'I'}


def pil_to_rgb8(im: Image.Image) -> np.ndarray:
    """Convert a loaded Pillow image to an ``(H, W, 3)`` uint8 RGB array.

    Args:
        im (PIL.Image.Image): The image (any mode).

    Returns:
        np.ndarray: C-contiguous RGB array.
    """
    mode = im.mode
    if mode == 'RGB' and 'transparency' not in im.info:
        return np.asarray(im)
    if mode in _WIDE_GRAY_MODES:
        return _gray_to_rgb(_wide_to_8bit(np.asarray(im)))
    if mode in _ALPHA_MODES or 'transparency' in im.info:
        return composite_on_white(np.asarray(im.convert('RGBA')))
    return np.asarray(im.convert('RGB'))


def composite_on_white(rgba: np.ndarray) -> np.ndarray:
    """Composite an ``(H, W, 4)`` uint8 RGBA array over a white background.

    Args:
        rgba (np.ndarray): Straight (non-premultiplied) alpha.

    Returns:
        np.ndarray: ``(H, W, 3)`` uint8 RGB, rounded to nearest.
    """
    rgb = rgba[..., :3].astype(np.uint32)
    alpha = rgba[..., 3:].astype(np.uint32)
    # rgb * a + 255 * (255 - a) <= 255 * 255, so uint32 never overflows; +127 rounds
    out = (rgb * alpha + 255 * (255 - alpha) + 127) // 255
    return out.astype(np.uint8)


def _wide_to_8bit(values: np.ndarray) -> np.ndarray:
    """Scale 16-bit samples (PNG ``I;16`` / ``I``) to 0-255 instead of clipping them."""
    wide = np.clip(values.astype(np.int64), 0, 65535)
    return ((wide * 255 + 32767) // 65535).astype(np.uint8)


def _gray_to_rgb(gray: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(np.broadcast_to(gray[..., None], gray.shape + (3, )))
