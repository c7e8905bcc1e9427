"""model.json validation, the numpy preprocessing and top-k of the ONNX backend."""
import json

import numpy as np
import pytest

from aliprod_plugins.deploy import load_model_meta, preprocess
from aliprod_plugins.deploy.metadata import FORMAT
from aliprod_plugins.deploy.onnx_runtime import topk_rows

SPEC = dict(name='input', shape=['batch', 3, 2, 2], dtype='float32', layout='NCHW',
            channel_order='RGB', decoded_order='BGR', mean=[10., 20., 30.], std=[1., 2., 4.])


def write(tmp_path, **changes):
    meta = dict(format=FORMAT, onnx='m.onnx', input=SPEC, output={}, classes=['a', 'b'],
                test_pipeline=[], config={}, checkpoint={})
    meta.update(changes)
    path = tmp_path / 'm.json'
    path.write_text(json.dumps({k: v for k, v in meta.items() if v is not None}))
    return str(path)


def test_load_model_meta_names_the_problem(tmp_path):
    assert load_model_meta(write(tmp_path))['classes'] == ['a', 'b']
    with pytest.raises(ValueError, match=r'm\.json: expected "format": "aliprod-onnx/1", got'):
        load_model_meta(write(tmp_path, format='other'))
    with pytest.raises(ValueError, match=r"missing \['classes'\]"):
        load_model_meta(write(tmp_path, classes=None))
    with pytest.raises(ValueError, match='expects distinct class ids, got 2 with 1 distinct'):
        load_model_meta(write(tmp_path, classes=['a', 'a']))
    with pytest.raises(ValueError, match='channel_order and decoded_order RGB|BGR'):
        load_model_meta(write(tmp_path, input=dict(SPEC, channel_order='GBR')))
    with pytest.raises(FileNotFoundError, match='nothere.json: no such file'):
        load_model_meta(str(tmp_path / 'nothere.json'))


def test_preprocess_swaps_channels_and_normalises():
    bgr = np.zeros((3, 2, 2), dtype=np.uint8)
    bgr[0], bgr[1], bgr[2] = 1, 2, 3  # B, G, R planes
    x = preprocess([bgr, bgr], SPEC)
    assert x.shape == (2, 3, 2, 2) and x.dtype == np.float32
    # RGB: (3 - 10) / 1, (2 - 20) / 2, (1 - 30) / 4
    np.testing.assert_array_equal(x[1, :, 0, 0], [-7.0, -9.0, -7.25])
    same = preprocess([bgr], dict(SPEC, channel_order='BGR'))
    np.testing.assert_array_equal(same[0, :, 1, 1], [(1 - 10) / 1, (2 - 20) / 2, (3 - 30) / 4])
    with pytest.raises(ValueError, match=r'expects test-pipeline images of shape \(3, 2, 2\), '
                       r'got \(3, 2, 3\)'):
        preprocess([np.zeros((3, 2, 3), dtype=np.uint8)], SPEC)


def test_topk_rows_best_first_ties_to_the_lower_index():
    scores = np.array([[0.1, 0.5, 0.2, 0.5, 0.0], [0.3, 0.0, 0.0, 0.1, 0.6]], dtype=np.float32)
    assert topk_rows(scores, 3).tolist() == [[1, 3, 2], [4, 0, 3]]
    assert topk_rows(scores, 5).tolist() == [[1, 3, 2, 0, 4], [4, 0, 3, 1, 2]]
