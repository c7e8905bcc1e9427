"""Unreadable files raise ImageLoadError naming the full path and the reason."""
import pickle

import numpy as np
import pytest
from PIL import Image
from transform_images import encode, photo_like, write

from aliprod_plugins.transforms import ImageLoadError, LoadImageScaled


def load(path, **kwargs):
    return LoadImageScaled(min_size=32, **kwargs)(dict(img_path=str(path)))


@pytest.fixture(scope='module')
def jpeg_bytes() -> bytes:
    return encode(Image.fromarray(photo_like(200, 300)), 'JPEG', quality=90)


@pytest.mark.parametrize('keep', [0.98, 0.6, 0.2, 0.03])
@pytest.mark.parametrize('backend', ['simplejpeg', 'pillow'])
def test_truncated_jpeg_raises(tmp_path, jpeg_bytes, keep, backend):
    path = write(tmp_path / 'cut.jpg', jpeg_bytes[:int(len(jpeg_bytes) * keep)])
    with pytest.raises(ImageLoadError) as info:
        load(path, jpeg_backend=backend)
    assert info.value.path == path
    assert path in str(info.value) and 'truncated' in str(info.value)


def test_truncated_png_raises(tmp_path):
    data = encode(Image.fromarray(photo_like(100, 120)), 'PNG')
    path = write(tmp_path / 'cut.png', data[:len(data) // 2])
    with pytest.raises(ImageLoadError, match=r"cut\.png'.*truncated png"):
        load(path)


def test_missing_file_raises_with_full_path(tmp_path):
    path = str(tmp_path / 'train' / '00007' / 'gone.jpg')
    with pytest.raises(ImageLoadError) as info:
        load(path)
    assert info.value.path == path and info.value.reason == 'file not found'
    assert f"cannot load image '{path}': file not found" == str(info.value)


@pytest.mark.parametrize('content,reason', [
    (b'', 'empty file'),
    (b'<html>404 not found</html>', 'unrecognised image data'),
    (b'\xff\xd8\xff' + b'\x00' * 40, 'corrupt or truncated jpeg'),
])
def test_empty_garbage_and_broken_header(tmp_path, content, reason):
    path = write(tmp_path / 'bad.jpg', content)
    with pytest.raises(ImageLoadError, match=reason) as info:
        load(path)
    assert info.value.path == path


def test_directory_instead_of_file(tmp_path):
    with pytest.raises(ImageLoadError, match='cannot read file'):
        load(tmp_path)


def test_harmless_libjpeg_warning_still_decodes(tmp_path, jpeg_bytes):
    # garbage between the last scan and EOI: libjpeg warns, OpenCV and Pillow decode it
    path = write(tmp_path / 'extra.jpg', jpeg_bytes[:-2] + b'\x00\x17\x00' + jpeg_bytes[-2:])
    results = load(path)
    reference = load(write(tmp_path / 'ok.jpg', jpeg_bytes))
    np.testing.assert_array_equal(results['img'], reference['img'])


def test_error_survives_pickling_from_a_worker():
    err = pickle.loads(pickle.dumps(ImageLoadError('/data/x.jpg', 'file not found')))
    assert isinstance(err, ImageLoadError) and err.path == '/data/x.jpg'
