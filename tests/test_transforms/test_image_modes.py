"""Every image mode and format comes out as (H, W, 3) uint8 BGR, like LoadImageFromFile."""
import numpy as np
import pytest
from mmcv.transforms import LoadImageFromFile
from PIL import Image
from transform_images import encode, photo_like, quadrants, write

from aliprod_plugins.transforms import LoadImageScaled, decode_image, sniff_format


def load(path, **kwargs) -> dict:
    results = LoadImageScaled(**kwargs)(dict(img_path=str(path)))
    img = results['img']
    assert img.dtype == np.uint8 and img.ndim == 3 and img.shape[2] == 3
    assert img.flags['C_CONTIGUOUS'] and img.flags['WRITEABLE']
    assert results['img_shape'] == img.shape[:2]
    return results


def bgr(rgb) -> np.ndarray:
    return np.asarray(rgb)[..., ::-1]


def test_rgb_png_matches_stock_loader_exactly(tmp_path):
    rgb = photo_like(30, 50)
    path = write(tmp_path / 'a.png', encode(Image.fromarray(rgb), 'PNG'))
    stock = LoadImageFromFile()(dict(img_path=path))['img']
    ours = load(path)
    np.testing.assert_array_equal(ours['img'], stock)
    np.testing.assert_array_equal(ours['img'], bgr(rgb))
    assert ours['ori_shape'] == (30, 50) and ours['decode_scale'] == 1


@pytest.mark.parametrize('backend', ['simplejpeg', 'pillow'])
def test_full_size_jpeg_matches_stock_loader(tmp_path, backend):
    data = encode(Image.fromarray(photo_like(64, 80)), 'JPEG', quality=90)
    path = write(tmp_path / 'a.jpg', data)
    stock = LoadImageFromFile()(dict(img_path=path))['img'].astype(np.int16)
    ours = load(path, jpeg_backend=backend)['img'].astype(np.int16)
    assert ours.shape == stock.shape
    # same libjpeg-turbo; only the chroma upsampling may differ by a level or two
    assert np.abs(ours - stock).mean() < 1.0


def test_rgb_channel_order(tmp_path):
    rgb = photo_like(20, 24)
    path = write(tmp_path / 'a.png', encode(Image.fromarray(rgb), 'PNG'))
    np.testing.assert_array_equal(load(path, channel_order='rgb')['img'], rgb)


def test_grayscale_jpeg_gives_three_equal_channels(tmp_path):
    gray = photo_like(32, 40)[..., 1]
    path = write(tmp_path / 'g.jpg', encode(Image.fromarray(gray), 'JPEG', quality=95))
    img = load(path)['img'].astype(np.int16)
    assert (img[..., 0] == img[..., 1]).all() and (img[..., 1] == img[..., 2]).all()
    assert np.abs(img[..., 0] - gray).mean() < 2.0


@pytest.mark.parametrize('backend', ['simplejpeg', 'pillow'])
def test_cmyk_jpeg_with_adobe_marker_is_converted(tmp_path, backend):
    cmyk = Image.new('CMYK', (32, 24), (255, 0, 0, 0))  # pure cyan
    data = encode(cmyk, 'JPEG', quality=95)
    assert b'Adobe' in data  # libjpeg writes inverted CMYK with an Adobe APP14 marker
    img = load(write(tmp_path / 'c.jpg', data), jpeg_backend=backend, min_size=12)['img']
    assert img.shape == (12, 16, 3)  # reduced through Pillow's draft() for CMYK too
    np.testing.assert_allclose(img.reshape(-1, 3).mean(0), bgr([0, 255, 255]), atol=3)


def test_palette_png(tmp_path):
    pal = Image.fromarray(photo_like(24, 30)).convert('P')
    img = load(write(tmp_path / 'p.png', encode(pal, 'PNG')))['img']
    np.testing.assert_array_equal(img, bgr(pal.convert('RGB')))


def test_palette_png_with_transparency_composites_on_white(tmp_path):
    pal = Image.new('P', (20, 10), 0)
    pal.putpalette([0, 0, 0, 200, 10, 10] + [0] * 762)
    pal.paste(1, (10, 0, 20, 10))  # right half index 1 (red), left half index 0
    img = load(write(tmp_path / 'pt.png', encode(pal, 'PNG', transparency=0)))['img']
    assert (img[:, :10] == 255).all()  # transparent black -> white, not black
    assert (img[:, 10:] == bgr([200, 10, 10])).all()


def test_rgba_png_composites_on_white(tmp_path):
    rgba = np.zeros((8, 12, 4), np.uint8)
    rgba[..., :3] = (200, 40, 0)
    rgba[:, :4, 3] = 0
    rgba[:, 4:8, 3] = 128
    rgba[:, 8:, 3] = 255
    img = load(write(tmp_path / 'a.png', encode(Image.fromarray(rgba), 'PNG')))['img']
    assert (img[:, :4] == 255).all()
    half = np.round((np.array([200, 40, 0]) * 128 + 255 * 127) / 255).astype(np.uint8)
    assert (img[:, 4:8] == bgr(half)).all()
    assert (img[:, 8:] == bgr([200, 40, 0])).all()


def test_la_png_composites_on_white(tmp_path):
    la = np.zeros((6, 6, 2), np.uint8)
    la[..., 0] = 50
    la[:3, :, 1] = 0
    la[3:, :, 1] = 255
    img = load(write(tmp_path / 'la.png', encode(Image.fromarray(la, 'LA'), 'PNG')))['img']
    assert (img[:3] == 255).all() and (img[3:] == 50).all()


def test_16_bit_png_is_scaled_not_clipped(tmp_path):
    wide = (np.arange(32 * 32, dtype=np.uint32).reshape(32, 32) * 64).astype(np.uint16)
    img = load(write(tmp_path / 'w.png', encode(Image.fromarray(wide), 'PNG')))['img']
    expected = np.round(wide.astype(np.float64) * 255 / 65535)
    assert np.abs(img[..., 0] - expected).max() <= 1
    assert (img[..., 0] == img[..., 2]).all()
    assert img.max() > 250  # clipping to 255 would saturate most of it instead
    assert (img[..., 0] == 255).mean() < 0.01


def test_bilevel_and_gif(tmp_path):
    bits = Image.fromarray(photo_like(16, 16)[..., 0] > 128)
    img = load(write(tmp_path / 'b.png', encode(bits, 'PNG')))['img']
    assert set(np.unique(img)) <= {0, 255}
    gif = Image.fromarray(photo_like(16, 20)).convert('P')
    np.testing.assert_array_equal(
        load(write(tmp_path / 'g.gif', encode(gif, 'GIF')))['img'], bgr(gif.convert('RGB')))


@pytest.mark.parametrize('fmt,kwargs,name', [
    ('PNG', {}, 'png'),
    ('WEBP', dict(lossless=True), 'webp'),
    ('BMP', {}, 'bmp'),
    ('TIFF', {}, 'tiff'),
])
def test_other_formats_named_jpg_decode_by_content(tmp_path, fmt, kwargs, name):
    rgb = photo_like(20, 28)
    data = encode(Image.fromarray(rgb), fmt, **kwargs)
    assert sniff_format(data) == name
    results = load(write(tmp_path / 'really_not_a.jpg', data), min_size=4)
    np.testing.assert_array_equal(results['img'], bgr(rgb))
    assert results['decode_scale'] == 1  # only JPEGs are reduced


def test_sniff_format():
    jpeg = encode(Image.new('RGB', (4, 4)), 'JPEG')
    assert sniff_format(jpeg) == 'jpeg'
    assert sniff_format(encode(Image.new('RGB', (4, 4)), 'GIF')) == 'gif'
    assert sniff_format(b'hello world, not an image') == 'unknown'


def test_to_float32_and_decode_image_api(tmp_path):
    rgb = quadrants()
    data = encode(Image.fromarray(rgb), 'PNG')
    results = load(write(tmp_path / 'q.png', data))
    results32 = LoadImageScaled(to_float32=True)(dict(img_path=str(tmp_path / 'q.png')))
    assert results32['img'].dtype == np.float32
    np.testing.assert_array_equal(results32['img'], results['img'])
    img, full_hw, scale = decode_image(data, channel_order='rgb')
    np.testing.assert_array_equal(img, rgb)
    assert full_hw == (40, 60) and scale == 1
