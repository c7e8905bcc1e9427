"""Export a classifier to ONNX (softmax probabilities) and check it against PyTorch.

The exported graph is ``softmax(head(neck(backbone(x))))`` on the data preprocessor's output,
i.e. what ``ClsHead.predict`` scores (any head whose ``forward`` gives the logits: the linear
head, ``LWSHead``, ...). :func:`check_export` compares it with the model's own
``test_step`` (the path ``tools/test.py`` and ``tools/infer.py`` take) on images through the
config's test pipeline, with the ONNX input made by :func:`~.onnx_runtime.preprocess` from
``model.json``: a head whose ``predict`` does more than that softmax, or wrong metadata, fails.
"""
import os
import os.path as osp
from typing import Dict, List, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from mmengine.dataset import Compose
from torch import nn
from torch.utils.data import DataLoader

from ..apis.predictor import ImagePathDataset, collate
from ..transforms import ImageLoadError
from .onnx_runtime import OnnxClassifier

INPUT_NAME, OUTPUT_NAME = 'input', 'probs'
# one self-contained .onnx below protobuf's 2 GiB limit; larger weights go to model.onnx.data
_MAX_INLINE_BYTES = (2 << 30) - (64 << 20)


class ProbabilityModel(nn.Module):
    """An ``ImageClassifier`` from preprocessed input to softmax probabilities.

    Args:
        classifier (nn.Module): MMPretrain's ``ImageClassifier`` (backbone, neck, head).
    """

    def __init__(self, classifier: nn.Module) -> None:
        super().__init__()
        self.classifier = classifier

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        """``(N, 3, H, W)`` normalised float32 -> ``(N, classes)`` probabilities."""
        logits = self.classifier.head(self.classifier.extract_feat(inputs))
        return F.softmax(logits, dim=1)


def pipeline_size(pipeline: Compose, paths: Sequence[str]) -> Tuple[int, int]:
    """The ``(height, width)`` the test pipeline gives every image of ``paths``.

    The ONNX input has a fixed size, so the pipeline must end with a fixed-size crop.
    """
    sizes = {}
    for path in paths:
        try:
            shape = tuple(pipeline(dict(img_path=path))['inputs'].shape)
        except ImageLoadError as err:
            raise ValueError(f'check image {path} could not be read: {err.reason}') from None
        sizes.setdefault(shape, path)
    if len(sizes) != 1:
        raise ValueError('ONNX export expects a test pipeline that gives every image the same '
                         'size (a final CenterCrop), got '
                         + ', '.join(f'{s} for {p}' for s, p in sizes.items()))
    shape = next(iter(sizes))
    if len(shape) != 3 or shape[0] != 3:
        raise ValueError(f'ONNX export expects 3-channel CHW images, got {shape} from {path}')
    return shape[1], shape[2]


def export_onnx(classifier: nn.Module, path: str, size: Tuple[int, int], opset: int,
                dynamic_batch: bool) -> None:
    """Write ``classifier`` as ONNX with torch's ``torch.export``-based (dynamo) exporter.

    Args:
        classifier (nn.Module): The ``ImageClassifier`` in eval mode, on CPU.
        path (str): Output ``.onnx`` file.
        size (tuple): ``(height, width)`` of the input.
        opset (int): ONNX opset version.
        dynamic_batch (bool): Free batch dimension; else a fixed batch of 1.
    """
    model = ProbabilityModel(classifier).eval()
    # batch 2 when dynamic: torch.export specialises a traced size of 1
    example = torch.zeros(2 if dynamic_batch else 1, 3, *size)
    param_bytes = sum(p.numel() * p.element_size() for p in model.parameters())
    kwargs = {}
    if dynamic_batch:
        kwargs['dynamic_shapes'] = {'inputs': {0: torch.export.Dim('batch', min=1)}}
    with torch.no_grad():
        torch.onnx.export(model, (example, ), path, dynamo=True, opset_version=opset,
                          input_names=[INPUT_NAME], output_names=[OUTPUT_NAME],
                          external_data=param_bytes > _MAX_INLINE_BYTES, verbose=False,
                          **kwargs)


def check_export(classifier: nn.Module, pipeline: Compose, onnx_model: OnnxClassifier,
                 paths: Sequence[str], batch_size: int = 8) -> Dict:
    """Compare the ONNX model with PyTorch's ``test_step`` on ``paths``.

    Memory: one batch of ``batch x classes`` probabilities from each side.

    Args:
        classifier (nn.Module): The ``ImageClassifier`` (with its data preprocessor).
        pipeline (Compose): The config's test pipeline.
        onnx_model (OnnxClassifier): The exported model with its metadata.
        paths (Sequence[str]): Images to compare on.
        batch_size (int): Images per batch. Defaults to 8.

    Returns:
        dict: ``images``, ``top1_agree`` (count), ``top1_disagree`` (paths),
        ``max_abs_prob_diff`` and where it is (``worst_image``, ``worst_class``).
    """
    loader = DataLoader(ImagePathDataset(paths, pipeline), batch_size=batch_size,
                        collate_fn=collate, shuffle=False)
    result = dict(images=0, top1_agree=0, top1_disagree=[], max_abs_prob_diff=0.0,
                  worst_image=None, worst_class=None)
    for indices, batch, failed in loader:
        if failed:
            raise ValueError(f'check image {paths[failed[0][0]]} could not be read: '
                             f'{failed[0][1]}')
        with torch.no_grad():
            samples = classifier.test_step(batch)
        reference = torch.stack([s.pred_score for s in samples]).float().numpy()
        probs = onnx_model.probs(batch['inputs'])
        diff = np.abs(probs.astype(np.float64) - reference)
        row, col = np.unravel_index(int(diff.argmax()), diff.shape)
        if diff[row, col] > result['max_abs_prob_diff'] or result['worst_image'] is None:
            result.update(max_abs_prob_diff=float(diff[row, col]),
                          worst_image=paths[indices[row]], worst_class=int(col))
        agree = probs.argmax(1) == reference.argmax(1)
        result['images'] += len(indices)
        result['top1_agree'] += int(agree.sum())
        result['top1_disagree'] += [paths[indices[i]] for i in np.flatnonzero(~agree)]
    return result


def make_check_images(folder: str, count: int = 8, seed: int = 0) -> List[str]:
    """Write ``count`` varied images (sizes, aspect ratios, PNG and JPEG, colour and gray)."""
    from PIL import Image
    os.makedirs(folder, exist_ok=True)
    rng = np.random.default_rng(seed)
    paths = []
    for i in range(count):
        h, w = (int(v) for v in rng.integers(40, 300, size=2))
        ramp = np.linspace(0, 1, w)[None, :, None] * rng.integers(0, 256, size=(1, 1, 3))
        img = np.clip(ramp + rng.normal(0, 40, size=(h, w, 3)) + rng.integers(0, 128, 3),
                      0, 255).astype(np.uint8)
        pil = Image.fromarray(img) if i % 4 else Image.fromarray(img).convert('L')
        path = osp.join(folder, f'check_{i}.{"png" if i % 2 else "jpg"}')
        pil.save(path)
        paths.append(path)
    return paths
