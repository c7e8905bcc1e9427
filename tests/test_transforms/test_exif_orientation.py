"""EXIF orientation is applied like Pillow's exif_transpose and OpenCV's IMREAD_COLOR."""
import io
import struct

import numpy as np
import pytest
from mmcv.transforms import LoadImageFromFile
from PIL import Image, ImageOps
from transform_images import encode, quadrants, write

from aliprod_plugins.transforms import LoadImageScaled
from aliprod_plugins.transforms.exif import jpeg_exif_orientation


def exif_bytes(orientation: int) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    return exif.tobytes()


def big_endian_exif(orientation: int) -> bytes:
    """A hand-built Motorola-order EXIF block with an extra tag before the orientation."""
    entries = struct.pack('>HHIHH', 0x010F, 2, 4, 0, 0)  # Make, ASCII, fits inline
    entries += struct.pack('>HHIHH', 0x0112, 3, 1, orientation, 0)
    tiff = b'MM\x00\x2a' + struct.pack('>I', 8) + struct.pack('>H', 2) + entries + b'\0' * 4
    return b'Exif\x00\x00' + tiff


def upright_reference(data: bytes) -> np.ndarray:
    """Pillow's full decode with exif_transpose, as BGR."""
    with Image.open(io.BytesIO(data)) as im:
        return np.asarray(ImageOps.exif_transpose(im).convert('RGB'))[..., ::-1]


@pytest.mark.parametrize('orientation', range(1, 9))
@pytest.mark.parametrize('backend', ['simplejpeg', 'pillow'])
def test_jpeg_orientations_match_pillow_and_stock(tmp_path, orientation, backend):
    data = encode(
        Image.fromarray(quadrants(40, 64)), 'JPEG', quality=95, exif=exif_bytes(orientation))
    assert jpeg_exif_orientation(data) == orientation
    path = write(tmp_path / f'o{orientation}.jpg', data)
    results = LoadImageScaled(jpeg_backend=backend)(dict(img_path=path))
    expected = upright_reference(data)
    stock = LoadImageFromFile()(dict(img_path=path))['img']
    assert results['img'].shape == expected.shape == stock.shape
    assert results['ori_shape'] == expected.shape[:2]
    assert np.abs(results['img'].astype(int) - expected).mean() < 2.0
    assert np.abs(results['img'].astype(int) - stock).mean() < 2.0


@pytest.mark.parametrize('orientation', [6, 8])
def test_reduced_decode_keeps_orientation(tmp_path, orientation):
    data = encode(
        Image.fromarray(quadrants(160, 240)), 'JPEG', quality=95, exif=exif_bytes(orientation))
    results = LoadImageScaled(min_size=40)(dict(img_path=write(tmp_path / 'r.jpg', data)))
    assert results['decode_scale'] == 4
    assert results['img'].shape == (60, 40, 3) and results['ori_shape'] == (240, 160)
    expected = upright_reference(data)[2::4, 2::4]
    assert np.abs(results['img'].astype(int) - expected).mean() < 6.0


def test_big_endian_exif(tmp_path):
    data = encode(Image.fromarray(quadrants()), 'JPEG', quality=95, exif=big_endian_exif(6))
    assert jpeg_exif_orientation(data) == 6
    results = LoadImageScaled()(dict(img_path=write(tmp_path / 'mm.jpg', data)))
    assert np.abs(results['img'].astype(int) - upright_reference(data)).mean() < 2.0


def test_png_exif_orientation(tmp_path):
    rgb = quadrants()
    data = encode(Image.fromarray(rgb), 'PNG', exif=exif_bytes(8))
    img = LoadImageScaled()(dict(img_path=write(tmp_path / 'o.png', data)))['img']
    np.testing.assert_array_equal(img, np.rot90(rgb)[..., ::-1])


@pytest.mark.parametrize(
    'data',
    [
        b'\xff\xd8\xff\xe1\x00\x10Exif\x00\x00XX\x00\x2a\x00\x00\x00\x08',  # bad byte order
        b'\xff\xd8\xff\xe1\x00\x10Exif\x00\x00II\x2a\x00\xff\xff\x00\x00',  # IFD beyond the end
        b'\xff\xd8\xff\xe0\x00\x04ab\xff\xda',  # no EXIF before the scan
        b'\xff\xd8',
    ])
def test_malformed_or_missing_exif_means_as_stored(data):
    assert jpeg_exif_orientation(data) == 1
