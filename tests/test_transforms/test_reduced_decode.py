"""DCT-reduced JPEG decoding: the scale rule, the shorter side bound, and the quality bound.

Quality bound: on the DCT grid (output pixel ``i`` covers stored pixels ``s*i .. s*i+s-1``),
a 1/s decode differs from a full decode followed by ``cv2.resize(..., INTER_AREA)`` by a mean
absolute difference below 1 grey level (0-255, over all pixels and channels). Measured
0.2-0.6 on quality 75-90 photo-like images; misregistering the reference by one pixel gives
2.5-7, so the bound does detect a wrong grid or a wrong filter.
"""
import cv2
import numpy as np
import pytest
from PIL import Image
from transform_images import encode, photo_like, write

from aliprod_plugins.transforms import LoadImageScaled, dct_scale, decode_image

MAD_BOUND = 1.0


def test_dct_scale_rule():
    assert dct_scale(800, None) == 1
    assert dct_scale(800, 100) == 8
    assert dct_scale(800, 101) == 4
    assert dct_scale(800, 200) == 4
    assert dct_scale(799, 200) == 2  # 799 // 4 = 199 < 200
    assert dct_scale(800, 401) == 1
    assert dct_scale(50, 112) == 1  # smaller than min_size: full size, never upscaled
    sides = np.arange(1, 3000)
    for min_size in (1, 37, 112, 160, 224):
        scales = np.array([dct_scale(int(s), min_size) for s in sides])
        reduced = -(-sides // scales)
        big = sides >= min_size
        assert (reduced[big] >= min_size).all()
        # the next halving would have gone below min_size (or 1/8 is already used)
        assert ((sides[big] // (2 * scales[big]) < min_size) | (scales[big] == 8)).all()


@pytest.mark.parametrize('backend', ['simplejpeg', 'pillow'])
@pytest.mark.parametrize('height,width,min_size', [(611, 803, 40), (611, 803, 150), (333, 500, 80),
                                                   (1000, 750, 300), (480, 640, 150)])
def test_reduced_decode_bound_and_quality(tmp_path, backend, height, width, min_size):
    data = encode(Image.fromarray(photo_like(height, width, seed=1)), 'JPEG', quality=90)
    path = write(tmp_path / 'p.jpg', data)
    results = LoadImageScaled(min_size=min_size, jpeg_backend=backend)(dict(img_path=path))
    img, scale = results['img'], results['decode_scale']
    assert scale == dct_scale(min(height, width), min_size) > 1
    assert img.shape == (-(-height // scale), -(-width // scale), 3)
    assert min(img.shape[:2]) >= min_size
    assert results['ori_shape'] == (height, width)

    full, _, _ = decode_image(data)
    rows, cols = height // scale, width // scale
    reference = cv2.resize(
        full[:rows * scale, :cols * scale], (cols, rows),
        interpolation=cv2.INTER_AREA).astype(np.int16)
    diff = np.abs(img[:rows, :cols].astype(np.int16) - reference)
    assert diff.mean() < MAD_BOUND
    assert np.abs(img[1:rows, :cols].astype(np.int16) - reference[:-1]).mean() > MAD_BOUND


def test_both_backends_agree(tmp_path):
    data = encode(Image.fromarray(photo_like(300, 420, seed=2)), 'JPEG', quality=85)
    fast, hw_fast, s_fast = decode_image(data, 70, jpeg_backend='simplejpeg')
    slow, hw_slow, s_slow = decode_image(data, 70, jpeg_backend='pillow')
    assert (hw_fast, s_fast) == (hw_slow, s_slow) == ((300, 420), 4)
    assert fast.shape == slow.shape
    assert np.abs(fast.astype(np.int16) - slow).mean() < 0.5


def test_small_image_and_no_min_size_decode_full(tmp_path):
    data = encode(Image.fromarray(photo_like(90, 120)), 'JPEG')
    assert decode_image(data, 112)[0].shape == (90, 120, 3)
    assert decode_image(data, None)[0].shape == (90, 120, 3)


@pytest.mark.parametrize('bad', [0, -5, 1.5, '112', True])
def test_bad_options_raise(bad):
    with pytest.raises(ValueError, match='LoadImageScaled: min_size expected an int >= 1 or None'):
        LoadImageScaled(min_size=bad)
    with pytest.raises(ValueError, match="channel_order must be one of .*got 'RGB '"):
        LoadImageScaled(channel_order='RGB ')
    with pytest.raises(ValueError, match="jpeg_backend must be one of .*got 'turbo'"):
        LoadImageScaled(jpeg_backend='turbo')


def test_repr_and_registry():
    from mmpretrain.registry import TRANSFORMS
    t = TRANSFORMS.build(dict(type='LoadImageScaled', min_size=128))
    assert isinstance(t, LoadImageScaled)
    assert 'min_size=128' in repr(t)
