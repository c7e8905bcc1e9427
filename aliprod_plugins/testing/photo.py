"""Photo-like test images: a gradient, sharp-edged ellipses, mild blur and noise.

Unlike a flat colour, such an image makes JPEG, resizing and cropping behave as they do on
photographs (edges, texture), while staying small and generated from a seed.
"""
from typing import Optional, Sequence

import cv2
import numpy as np


def photo_like(height: int, width: int, rng: np.random.Generator,
               tint: Optional[Sequence[float]] = None, base: int = 30, shapes: int = 6,
               min_axis: int = 3, axis_div: int = 3) -> np.ndarray:
    """An RGB uint8 ``height x width`` image drawn from ``rng``.

    Args:
        height (int): Rows.
        width (int): Columns.
        rng (np.random.Generator): Source of the tint (when not given), shapes and noise.
        tint (Sequence[float], optional): RGB weights of the horizontal ramp. Defaults to None
            (drawn from ``rng``, uniform in [0.2, 1)).
        base (int): Grey level of the top-left corner. Defaults to 30.
        shapes (int): Filled ellipses drawn. Defaults to 6.
        min_axis (int): Smallest ellipse half-axis in pixels. Defaults to 3.
        axis_div (int): Largest half-axis is the longer side divided by this. Defaults to 3.

    Returns:
        np.ndarray: ``(height, width, 3)`` uint8.
    """
    ramp = np.linspace(0, 1, width, dtype=np.float32)[None, :, None]
    down = np.linspace(0, 1, height, dtype=np.float32)[:, None, None]
    tint = rng.uniform(0.2, 1.0, size=3).astype(np.float32) if tint is None else np.float32(tint)
    img = (base + 150 * ramp * tint + 60 * down).astype(np.uint8)
    for _ in range(shapes):
        centre = tuple(int(c) for c in rng.integers(0, (width, height)))
        axes = tuple(
            int(a)
            for a in rng.integers(min_axis, max(min_axis + 1, max(height, width) // axis_div),
                                  size=2))
        colour = tuple(int(c) for c in rng.integers(0, 256, size=3))
        cv2.ellipse(img, centre, axes, float(rng.uniform(0, 180)), 0, 360, colour, -1)
    img = cv2.GaussianBlur(img, (0, 0), 1.0)
    return np.clip(img + rng.normal(0, 3, size=img.shape), 0, 255).astype(np.uint8)
