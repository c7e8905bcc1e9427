"""Serving a trained model: ONNX export checked against onnxruntime, an ONNX predictor.

- :mod:`.onnx_export`: export backbone + neck + head + softmax and check it against PyTorch;
- :mod:`.onnx_runtime`: ``OnnxClassifier``, ``OnnxPredictor``, ``preprocess``;
- :mod:`.metadata`: ``model.json`` (input size, mean / std, class ids, SHA-256s);
- :mod:`.extras`: ``require``, ``MissingExtraError``, ``INSTALL_HINT``.

Nothing here imports ``onnx`` or ``onnxruntime`` at import time: they come with the optional
``[deploy]`` extra and are imported on use (:func:`~.extras.require`, one-line hint if missing).
"""
from . import onnx_export
from .extras import INSTALL_HINT, MissingExtraError, require
from .metadata import load_model_meta, meta_path_for, model_meta, sha256_file
from .onnx_runtime import OnnxClassifier, OnnxPredictor, preprocess

__all__ = ['INSTALL_HINT', 'MissingExtraError', 'OnnxClassifier', 'OnnxPredictor',
           'load_model_meta', 'meta_path_for', 'model_meta', 'preprocess', 'require',
           'onnx_export', 'sha256_file']
