"""Glyphs-LT rendering: dark ink on light (about 10% inverted in training), per-class randomness."""
import os.path as osp

import numpy as np
from PIL import Image

from aliprod_plugins.demo.glyph_fonts import font_dir
from aliprod_plugins.demo.glyph_render import render_sample
from aliprod_plugins.demo.glyphs_lt import render_class

FONT = 'DejaVuSans.ttf'


def light_background(img: np.ndarray) -> bool:
    """Whether the border (background) is lighter than the image on average (ink is darker)."""
    border = np.concatenate([img[0], img[-1], img[1:-1, 0], img[1:-1, -1]]).astype(float)
    return border.mean() > img.mean()


def test_ink_is_dark_on_light_and_about_one_in_ten_training_images_inverted():
    path = osp.join(font_dir(), FONT)
    rng = np.random.default_rng(0)
    train = [render_sample(path, 'H', 24, rng, 'train') for _ in range(400)]
    inverted = sum(not light_background(img) for img in train) / len(train)
    assert 0.06 <= inverted <= 0.14, inverted  # invert=0.1: 40 expected, sd 6
    val = [render_sample(path, 'H', 24, np.random.default_rng(s), 'val') for s in range(50)]
    assert all(light_background(img) for img in val)  # validation is never inverted
    # the ink itself is the dark part: the glyph's centre bar of 'H' darker than the corners
    img = val[0].astype(float)
    assert img[10:14, 8:16].mean() < img[:3, :3].mean() - 100


def test_augmentation_differs_by_class_and_repeats_for_a_class(tmp_path):
    def job(c):  # two classes of the same glyph in the same fonts: only the class differs
        return (str(tmp_path), c, ord('H'), [FONT, 'DejaVuSerif.ttf'], [], 6, 0, 24, 0)

    def pixels(c):
        _, written = render_class(job(c))
        return [np.asarray(Image.open(osp.join(tmp_path, 'train', f'{c:05d}', name)))
                for name in written['train']]

    first, again, other = pixels(3), pixels(3), pixels(4)
    assert all(np.array_equal(a, b) for a, b in zip(first, again))  # (seed, class) decide
    # another class draws other fonts' order, scales, shifts, ...: no image repeats
    assert all(not np.array_equal(a, b) for a, b in zip(first, other))
