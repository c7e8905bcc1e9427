"""``model.json``: what a server needs beside ``model.onnx`` (input, classes, provenance).

Example (the demo model)::

    {"format": "aliprod-onnx/1", "onnx": "model.onnx", "opset": 18,
     "input": {"name": "input", "shape": ["batch", 3, 24, 24], "dtype": "float32",
               "layout": "NCHW", "channel_order": "RGB", "mean": [127.5, 127.5, 127.5],
               "std": [127.5, 127.5, 127.5], "decoded_order": "BGR"},
     "output": {"name": "probs", "shape": ["batch", 10], "scores": "softmax"},
     "classes": ["00000", ...], "test_pipeline": [...],
     "config": {"path": ..., "sha256": ..., "cfg_options": {...}},
     "checkpoint": {"path": ..., "sha256": ...}, "check": {...}}

The input is the data preprocessor's output: the test pipeline's uint8 image (channels in
``decoded_order``, as the loader decodes them), channels put in ``channel_order``, then
``(x - mean) / std`` per channel (``mean`` / ``std`` in ``channel_order``), ``NCHW`` float32.
"""
import hashlib
import json
import os.path as osp
from typing import Any, Optional, Sequence

FORMAT = 'aliprod-onnx/1'
REQUIRED = ('onnx', 'input', 'output', 'classes', 'test_pipeline', 'config', 'checkpoint')


def sha256_file(path: str, chunk: int = 1 << 22) -> str:
    """Hex SHA-256 of a file, read in chunks (a 50,030-class checkpoint is ~1 GB)."""
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(chunk), b''):
            digest.update(block)
    return digest.hexdigest()


def meta_path_for(onnx_path: str) -> str:
    """``model.onnx`` -> ``model.json`` (the metadata beside an exported model)."""
    return osp.splitext(onnx_path)[0] + '.json'


def plain(obj: Any) -> Any:
    """Config values as JSON types (``ConfigDict`` -> dict, tuple -> list)."""
    if isinstance(obj, dict):
        return {str(k): plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [plain(v) for v in obj]
    return obj


def input_spec(data_preprocessor, loader_order: str, size: Sequence[int],
               dynamic_batch: bool) -> dict:
    """The ONNX input as the model's ``ClsDataPreprocessor`` makes it.

    Args:
        data_preprocessor: The classifier's data preprocessor (MMPretrain's
            ``ClsDataPreprocessor``).
        loader_order (str): Channel order of the pipeline's decoded image (``'bgr'``).
        size (Sequence[int]): ``(height, width)`` after the test pipeline.
        dynamic_batch (bool): Whether the batch dimension is free.

    Returns:
        dict: The ``input`` entry of ``model.json``.
    """
    from mmpretrain.models.utils import ClsDataPreprocessor
    if not isinstance(data_preprocessor, ClsDataPreprocessor):
        raise ValueError('ONNX export expects the model\'s data_preprocessor to be '
                         f'ClsDataPreprocessor, got {type(data_preprocessor).__name__}')
    if data_preprocessor.pad_size_divisor != 1:
        raise ValueError('ONNX export expects data_preprocessor.pad_size_divisor=1 (no '
                         f'padding), got {data_preprocessor.pad_size_divisor!r}')
    order = loader_order.upper()
    if data_preprocessor.to_rgb:  # ClsDataPreprocessor flips the channels of 3-channel input
        order = order[::-1]
    # the buffers exist only when the config gives mean / std (else no normalisation)
    normalised = hasattr(data_preprocessor, 'mean')
    mean = data_preprocessor.mean.flatten().tolist() if normalised else [0.0] * 3
    std = data_preprocessor.std.flatten().tolist() if normalised else [1.0] * 3
    return dict(name='input', shape=['batch' if dynamic_batch else 1, 3, *map(int, size)],
                dtype='float32', layout='NCHW', channel_order=order, mean=mean, std=std,
                decoded_order=loader_order.upper())


def model_meta(onnx_path: str, input_: dict, classes: Sequence[str], test_pipeline: list,
               config: str, cfg_options: Optional[dict], checkpoint: str, opset: int,
               check: dict) -> dict:
    """The content of ``model.json`` for an exported model (see the module docstring)."""
    return dict(
        format=FORMAT, onnx=osp.basename(onnx_path), opset=int(opset), input=input_,
        output=dict(name='probs', shape=[input_['shape'][0], len(classes)], scores='softmax'),
        classes=list(classes), test_pipeline=plain(test_pipeline),
        config=dict(path=config, sha256=sha256_file(config), cfg_options=plain(cfg_options)),
        checkpoint=dict(path=checkpoint, sha256=sha256_file(checkpoint)), check=check)


def load_model_meta(path: str) -> dict:
    """Read and validate a ``model.json`` written by ``tools/export_onnx.py``.

    Args:
        path (str): The JSON file.

    Returns:
        dict: Its content.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'{path}: no such file: expected the model.json that '
                                'tools/export_onnx.py writes beside the .onnx file')
    with open(path, encoding='utf-8') as f:
        try:
            meta = json.load(f)
        except json.JSONDecodeError as err:
            raise ValueError(f'{path}: expected JSON written by tools/export_onnx.py, '
                             f'got a parse error: {err}') from None
    if not isinstance(meta, dict) or meta.get('format') != FORMAT:
        got = meta.get('format') if isinstance(meta, dict) else type(meta).__name__
        raise ValueError(f'{path}: expected "format": "{FORMAT}", got {got!r}')
    missing = [key for key in REQUIRED if key not in meta]
    if missing:
        raise ValueError(f'{path}: expected the keys {list(REQUIRED)}, missing {missing}')
    spec = meta['input']
    if spec.get('channel_order') not in ('RGB', 'BGR') or len(spec.get('mean', ())) != 3 \
            or spec.get('decoded_order') not in ('RGB', 'BGR') \
            or len(spec.get('std', ())) != 3 or len(spec.get('shape', ())) != 4:
        raise ValueError(f'{path}: "input" expects channel_order and decoded_order RGB|BGR, '
                         f'3 mean, 3 std and an NCHW shape, got {spec!r}')
    if not meta['classes'] or len(set(meta['classes'])) != len(meta['classes']):
        raise ValueError(f'{path}: "classes" expects distinct class ids, got '
                         f'{len(meta["classes"])} with {len(set(meta["classes"]))} distinct')
    return meta
