"""Render one glyph of one font file: a normalised thumbnail, or an augmented sample image.

Both start from the same normalisation: the glyph's ink is cropped to its bounding box and
scaled so that its longer side fills a fixed fraction of a square, centred. Size and baseline
position therefore carry no class information ('o' and 'O', '.' and the middle dot become
the same shape), and the selection of distinct classes (:mod:`.glyph_fonts`) compares exactly
what the network will see. Fonts are opened once per process and size.
"""
import os.path as osp
from functools import lru_cache
from typing import Optional, Tuple

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

RENDER_PX = 64  # font size of the master rendering; samples are drawn from it at 2x or more


@lru_cache(maxsize=None)
def load_font(path: str, px: int = RENDER_PX) -> ImageFont.FreeTypeFont:
    """Open ``path`` at ``px`` pixels (cached per process)."""
    return ImageFont.truetype(path, px)


def glyph_ink(path: str, char: str, px: int = RENDER_PX) -> Optional[Image.Image]:
    """Return the glyph's ink (white on black, mode ``L``) cropped to its box, or None if blank.

    Args:
        path (str): A TrueType file.
        char (str): One character.
        px (int): Font size in pixels. Defaults to RENDER_PX.
    """
    font = load_font(path, px)
    left, top, right, bottom = font.getbbox(char)
    if right <= left or bottom <= top:
        return None
    canvas = Image.new('L', (right - left, bottom - top), 0)
    ImageDraw.Draw(canvas).text((-left, -top), char, font=font, fill=255)
    box = canvas.getbbox()  # the layout box includes side bearings; keep only the ink
    return None if box is None else canvas.crop(box)


def fit_square(ink: Image.Image, side: int, fill: float) -> Image.Image:
    """Scale ``ink`` so its longer side is ``fill * side`` and centre it on a black square."""
    w, h = ink.size
    scale = fill * side / max(w, h)
    nw, nh = max(1, round(w * scale)), max(1, round(h * scale))
    out = Image.new('L', (side, side), 0)
    resample = Image.BOX if scale < 1 else Image.BILINEAR
    out.paste(ink.resize((nw, nh), resample), ((side - nw) // 2, (side - nh) // 2))
    return out


def thumbnail(path: str, char: str, side: int = 16, px: int = 32) -> Optional[np.ndarray]:
    """Return the normalised ``side x side`` rendering in [0, 1] (float32), or None if blank.

    Args:
        path (str): A TrueType file.
        char (str): One character.
        side (int): Thumbnail side. Defaults to 16.
        px (int): Font size drawn at. Defaults to 32.
    """
    ink = glyph_ink(path, char, px)
    if ink is None:
        return None
    return np.asarray(fit_square(ink, side, 0.9), dtype=np.float32) / 255.0


# augmentation ranges: (train, val). Validation is mild: its change of appearance is the font.
AUG = {
    'train': dict(fill=(0.55, 0.9), shift=0.12, rotate=12.0, shear=0.25, stroke=0.5, blur=0.4,
                  noise=12.0, low=(0, 100), high=(150, 255), invert=0.1),
    'val': dict(fill=(0.7, 0.8), shift=0.04, rotate=3.0, shear=0.0, stroke=0.0, blur=0.0,
                noise=0.0, low=(0, 20), high=(235, 255), invert=0.0),
}


def render_sample(path: str, char: str, size: int, rng: np.random.Generator,
                  mode: str = 'train') -> np.ndarray:
    """Render one augmented ``size x size`` grayscale image of ``char`` in the font ``path``.

    The glyph is drawn dark on a light background (light on dark when inverted) after a random
    scale, shift, rotation and shear, a random stroke weight (dilation / erosion at 2x), blur,
    contrast and Gaussian noise, with the ranges of ``AUG[mode]``.

    Args:
        path (str): A TrueType file.
        char (str): One character.
        size (int): Output side in pixels.
        rng (np.random.Generator): Source of all randomness of this image.
        mode (str): ``'train'`` or ``'val'``. Defaults to 'train'.

    Returns:
        np.ndarray: ``(size, size)`` uint8.
    """
    a = AUG[mode]
    ink = glyph_ink(path, char)
    if ink is None:
        raise ValueError(f'{osp.basename(path)} renders U+{ord(char):04X} blank; expected a '
                         'font chosen from its verified coverage')
    big = 2 * size
    glyph = fit_square(ink, big, rng.uniform(*a['fill']))
    glyph = _stroke(glyph, rng.uniform(-1, 1) * a['stroke'], big)
    glyph = _affine(glyph, rng, a, big)
    img = np.asarray(glyph.resize((size, size), Image.BOX), dtype=np.float32) / 255.0
    if a['blur'] and rng.random() < a['blur']:
        img = _blur(img, rng.uniform(0.3, 0.8))
    low, high = rng.uniform(*a['low']), rng.uniform(*a['high'])
    if rng.random() < a['invert']:
        low, high = high, low
    pixels = high + (low - high) * img  # ink 1 -> dark (low), background 0 -> light (high)
    if a['noise']:
        pixels = pixels + rng.normal(0.0, rng.uniform(0, a['noise']), pixels.shape)
    return np.clip(np.rint(pixels), 0, 255).astype(np.uint8)


def _stroke(glyph: Image.Image, weight: float, big: int) -> Image.Image:
    """Thicken (weight > 0) or thin (< 0) the strokes by up to one output pixel."""
    if abs(weight) < 0.25:
        return glyph
    kernel = 3 if abs(weight) < 0.75 else 5
    if weight > 0:
        return glyph.filter(ImageFilter.MaxFilter(kernel))
    thin = glyph.filter(ImageFilter.MinFilter(kernel))
    # hairlines must not vanish: keep the original when erosion removes most of the ink
    before, after = np.asarray(glyph).sum(), np.asarray(thin).sum()
    return thin if after >= 0.4 * before else glyph


def _affine(glyph: Image.Image, rng: np.random.Generator, a: dict, big: int) -> Image.Image:
    """Rotate, shear and shift about the centre (PIL maps output to input coordinates)."""
    theta = np.deg2rad(rng.uniform(-a['rotate'], a['rotate']))
    shear = rng.uniform(-a['shear'], a['shear'])
    dx, dy = rng.uniform(-a['shift'], a['shift'], 2) * big
    rot = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    fwd = rot @ np.array([[1.0, shear], [0.0, 1.0]])
    inv = np.linalg.inv(fwd)
    c = np.array([big / 2, big / 2])
    offset = c - inv @ (c + np.array([dx, dy]))
    data: Tuple[float, ...] = (inv[0, 0], inv[0, 1], offset[0], inv[1, 0], inv[1, 1], offset[1])
    return glyph.transform((big, big), Image.AFFINE, data, resample=Image.BILINEAR)


def _blur(img: np.ndarray, sigma: float) -> np.ndarray:
    """Separable Gaussian blur of a small image (reflect padding)."""
    radius = 2
    x = np.arange(-radius, radius + 1)
    k = np.exp(-x ** 2 / (2 * sigma ** 2))
    k /= k.sum()
    pad = np.pad(img, radius, mode='reflect')
    rows = sum(k[i] * pad[:, i:i + img.shape[1]] for i in range(2 * radius + 1))
    return sum(k[i] * rows[i:i + img.shape[0], :] for i in range(2 * radius + 1))
