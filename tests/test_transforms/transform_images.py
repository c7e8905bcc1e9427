"""Image generators shared by the transform tests (pytest puts this folder on sys.path)."""
import io

import cv2
import numpy as np
from PIL import Image


def photo_like(height: int, width: int, seed: int = 0) -> np.ndarray:
    """An RGB uint8 image with a smooth gradient, sharp-edged shapes and mild noise."""
    rng = np.random.default_rng(seed)
    ramp = np.linspace(0, 1, width, dtype=np.float32)[None, :, None]
    down = np.linspace(0, 1, height, dtype=np.float32)[:, None, None]
    img = (40 + 150 * ramp * np.float32([1, 0.5, 0.2]) + 60 * down).astype(np.uint8)
    for _ in range(8):
        centre = tuple(int(c) for c in rng.integers(0, (width, height)))
        axes = tuple(int(a) for a in rng.integers(2, max(3, max(height, width) // 4), size=2))
        colour = tuple(int(c) for c in rng.integers(0, 256, size=3))
        cv2.ellipse(img, centre, axes, float(rng.uniform(0, 180)), 0, 360, colour, -1)
    img = cv2.GaussianBlur(img, (0, 0), 1.0)
    noise = rng.normal(0, 3, size=img.shape)
    return np.clip(img + noise, 0, 255).astype(np.uint8)


def quadrants(height: int = 40, width: int = 60) -> np.ndarray:
    """An RGB image whose four quadrants have distinct colours (orientation is visible)."""
    img = np.zeros((height, width, 3), np.uint8)
    h, w = height // 2, width // 2
    img[:h, :w] = (220, 30, 30)
    img[:h, w:] = (30, 220, 30)
    img[h:, :w] = (30, 30, 220)
    img[h:, w:] = (230, 230, 30)
    return img


def encode(im: Image.Image, fmt: str, **kwargs) -> bytes:
    """Encode a Pillow image to bytes."""
    buf = io.BytesIO()
    im.save(buf, fmt, **kwargs)
    return buf.getvalue()


def write(path, data: bytes) -> str:
    """Write bytes to ``path`` (a pathlib.Path) and return it as str."""
    path.write_bytes(data)
    return str(path)
