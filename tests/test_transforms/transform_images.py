"""Image generators shared by the transform tests (pytest puts this folder on sys.path)."""
import io

import numpy as np
from PIL import Image

from aliprod_plugins.testing.photo import photo_like as testing_photo_like


def photo_like(height: int, width: int, seed: int = 0) -> np.ndarray:
    """An RGB uint8 image with a smooth gradient, sharp-edged shapes and mild noise."""
    return testing_photo_like(height, width, np.random.default_rng(seed), tint=(1, 0.5, 0.2),
                              base=40, shapes=8, min_axis=2, axis_div=4)


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
