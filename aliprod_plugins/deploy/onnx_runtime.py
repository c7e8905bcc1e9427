"""Predictions from an exported ``model.onnx`` with onnxruntime, preprocessed by our loader.

Images go through the config's test pipeline (:class:`~aliprod_plugins.apis.ImagePathDataset`,
the same decoding as ``tools/test.py``); :func:`preprocess` then does in numpy what the
model's ``ClsDataPreprocessor`` does in torch, from ``model.json``. Memory per batch:
``batch x classes`` float32 (the probabilities), reduced to top-k before the next batch.
"""
import os.path as osp
from typing import Iterator, Optional, Sequence, Tuple

import numpy as np
from mmengine.config import Config
from mmengine.dataset import Compose
from mmpretrain.registry import TRANSFORMS

from ..apis.predictor import predict_in_order
from .extras import require
from .metadata import load_model_meta, meta_path_for, plain, sha256_file


def preprocess(images: Sequence, spec: dict) -> np.ndarray:
    """Pipeline outputs (CHW uint8, loader's channel order) to the ONNX input.

    Args:
        images (Sequence[np.ndarray | torch.Tensor]): ``PackInputs`` outputs, ``(3, H, W)``.
        spec (dict): The ``input`` entry of ``model.json``.

    Returns:
        np.ndarray: ``(N, 3, H, W)`` float32, channels in ``spec['channel_order']``, normalised.
    """
    x = np.stack([np.asarray(img) for img in images])
    height, width = spec['shape'][2:]
    if x.ndim != 4 or x.shape[1:] != (3, height, width):
        raise ValueError(f'the ONNX model expects test-pipeline images of shape (3, {height}, '
                         f'{width}), got {tuple(x.shape[1:])}: is the config the one it was '
                         'exported with?')
    if spec['channel_order'] != spec['decoded_order']:
        x = x[:, ::-1]
    mean = np.asarray(spec['mean'], dtype=np.float32)[None, :, None, None]
    std = np.asarray(spec['std'], dtype=np.float32)[None, :, None, None]
    # the same float32 operations as ClsDataPreprocessor: (x - mean) / std
    return np.ascontiguousarray((x.astype(np.float32) - mean) / std)


class OnnxClassifier:
    """An onnxruntime session on ``model.onnx`` with its ``model.json``.

    Args:
        onnx_path (str): The exported model.
        meta (dict, optional): Its metadata. Defaults to reading ``model.json`` beside it.
        num_threads (int, optional): onnxruntime intra-op threads. Defaults to its own choice.
    """

    def __init__(self, onnx_path: str, meta: Optional[dict] = None,
                 num_threads: Optional[int] = None) -> None:
        ort = require('onnxruntime', 'the onnxruntime backend')
        if not osp.isfile(onnx_path):
            raise FileNotFoundError(f'{onnx_path}: no such ONNX model (tools/export_onnx.py '
                                    'writes one)')
        self.meta = meta if meta is not None else load_model_meta(meta_path_for(onnx_path))
        options = ort.SessionOptions()
        if num_threads:
            options.intra_op_num_threads = num_threads
        self.session = ort.InferenceSession(onnx_path, options,
                                            providers=['CPUExecutionProvider'])
        inputs, outputs = self.session.get_inputs(), self.session.get_outputs()
        self.input_name = inputs[0].name
        batch = inputs[0].shape[0]
        # tools/export_onnx.py exports a free batch (--dynamic-batch) or a batch of 1
        if isinstance(batch, int) and batch != 1:
            raise ValueError(f'{onnx_path} has a fixed batch of {batch}: expected a free batch '
                             'dimension or a batch of 1 (tools/export_onnx.py)')
        self.one_by_one = batch == 1
        num_outputs = outputs[0].shape[-1]
        if isinstance(num_outputs, int) and num_outputs != len(self.meta['classes']):
            raise ValueError(f'{onnx_path} outputs {num_outputs} classes but its model.json '
                             f'lists {len(self.meta["classes"])} class ids')

    def probs(self, images: Sequence) -> np.ndarray:
        """Softmax probabilities ``(N, classes)`` of pipeline outputs (see :func:`preprocess`)."""
        x = preprocess(images, self.meta['input'])
        if not self.one_by_one:
            return self.session.run(None, {self.input_name: x})[0]
        return np.concatenate([self.session.run(None, {self.input_name: x[i:i + 1]})[0]
                               for i in range(len(x))])


class OnnxPredictor:
    """:class:`~aliprod_plugins.apis.Predictor`'s interface on an exported ONNX model.

    Args:
        config (str | Config): The config the model was exported with (its test pipeline
            must match the one in ``model.json``).
        onnx_path (str): The exported model; ``model.json`` is read from beside it.
        checkpoint (str, optional): When given, its SHA-256 must be the one in ``model.json``.
        num_threads (int, optional): onnxruntime intra-op threads.
    """

    def __init__(self, config, onnx_path: str, checkpoint: Optional[str] = None,
                 num_threads: Optional[int] = None) -> None:
        cfg = config if isinstance(config, Config) else Config.fromfile(config)
        meta_path = meta_path_for(onnx_path)
        meta = load_model_meta(meta_path)
        if checkpoint is not None and sha256_file(checkpoint) != meta['checkpoint']['sha256']:
            raise ValueError(f'{onnx_path} was exported from {meta["checkpoint"]["path"]} '
                             f'(sha256 {meta["checkpoint"]["sha256"][:12]}...), not from '
                             f'{checkpoint}: expected the same checkpoint')
        pipeline_cfg = cfg.test_dataloader.dataset.pipeline
        if plain(pipeline_cfg) != meta['test_pipeline']:
            raise ValueError(f'the test pipeline of {getattr(cfg, "filename", config)} differs '
                             f'from the one {onnx_path} was exported with ({meta_path}): '
                             'expected the export\'s config and --cfg-options')
        self.classifier = OnnxClassifier(onnx_path, meta, num_threads=num_threads)
        self.classes = tuple(meta['classes'])
        self.pipeline = Compose([TRANSFORMS.build(t) for t in pipeline_cfg])

    def predict(self, paths: Sequence[str], topk: int = 5, batch_size: int = 32,
                num_workers: int = 0) -> Iterator[Tuple[int, np.ndarray, np.ndarray, str]]:
        """Predict ``paths`` in order, as :meth:`Predictor.predict` (same yields)."""

        def top_of(batch: dict) -> Tuple[np.ndarray, np.ndarray]:
            probs = self.classifier.probs(batch['inputs'])
            top = topk_rows(probs, topk)
            return top, np.take_along_axis(probs, top, axis=1)

        yield from predict_in_order(paths, self.pipeline, self.classes, topk, batch_size,
                                    num_workers, top_of)


def topk_rows(scores: np.ndarray, k: int) -> np.ndarray:
    """Column indices of the ``k`` largest scores per row, best first (ties: lower index)."""
    part = np.argpartition(-scores, k - 1, axis=1)[:, :k] if k < scores.shape[1] else \
        np.broadcast_to(np.arange(scores.shape[1]), scores.shape)
    order = np.lexsort((part, -np.take_along_axis(scores, part, axis=1)), axis=1)
    return np.take_along_axis(part, order, axis=1)
