"""Batched prediction on image files with the config's test (or TTA) pipeline.

The model comes from MMPretrain's ``get_model`` (config + checkpoint, ``dataset_meta`` from the
checkpoint), the preprocessing is the config's ``test_dataloader.dataset.pipeline`` (what
``tools/test.py`` and ``ImageClassificationInferencer`` use), or ``tta_pipeline`` with the
config's ``tta_model`` wrapped around the model (as ``tools/test.py --tta``). An image that
cannot be loaded yields its error instead of a prediction; the others go on.
"""
from typing import Callable, Iterator, List, Optional, Sequence, Tuple

import numpy as np
import torch
from mmengine.config import Config
from mmengine.dataset import Compose, pseudo_collate
from mmengine.registry import DefaultScope
from mmpretrain.apis import get_model
from mmpretrain.registry import MODELS, TRANSFORMS
from torch.utils.data import DataLoader, Dataset

from ..checks import check_int
from ..transforms import ImageLoadError
from ..upstream import private_attr
from .tta import tta_settings


class ImagePathDataset(Dataset):
    """Image paths through a pipeline; a load failure becomes ``{'error': reason}``.

    Args:
        paths (Sequence[str]): Image files.
        pipeline (Compose): Built from the config's pipeline.
    """

    def __init__(self, paths: Sequence[str], pipeline: Compose) -> None:
        self.paths = list(paths)
        self.pipeline = pipeline

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, index: int) -> dict:
        try:
            return dict(index=index, data=self.pipeline(dict(img_path=self.paths[index])))
        except ImageLoadError as err:
            return dict(index=index, error=err.reason)


def collate(items: List[dict]) -> Tuple[List[int], Optional[dict], List[Tuple[int, str]]]:
    """Split a batch into ``(indices of loaded images, their batch, [(index, error)])``."""
    loaded = [item for item in items if 'error' not in item]
    failed = [(item['index'], item['error']) for item in items if 'error' in item]
    batch = pseudo_collate([item['data'] for item in loaded]) if loaded else None
    return [item['index'] for item in loaded], batch, failed


class Predictor:
    """A model from a config and checkpoint, with the matching preprocessing.

    Args:
        config (str | Config): Config file or object.
        checkpoint (str): Checkpoint (loaded with ``weights_only=True``).
        device (str, optional): Torch device. Defaults to CUDA when available, else CPU.
        tta (bool): Use the config's ``tta_model`` and ``tta_pipeline``. Defaults to False.
    """

    def __init__(self, config, checkpoint: str, device: Optional[str] = None,
                 tta: bool = False) -> None:
        cfg = config if isinstance(config, Config) else Config.fromfile(config)
        device = device or ('cuda' if torch.cuda.is_available() else 'cpu')
        model = get_model(cfg, pretrained=checkpoint, device=device)
        self.classes = tuple((private_attr(model, '_dataset_meta') or {}).get('classes') or ())
        if not self.classes:
            raise ValueError(f'checkpoint {checkpoint!r} holds no class ids: expected '
                             "meta['dataset_meta']['classes'] as saved by tools/train.py or "
                             'tools/publish_model.py')
        pipeline_cfg = cfg.test_dataloader.dataset.pipeline
        # TestTimeAug builds its transforms from the default scope, as in the Runner
        with DefaultScope.overwrite_default_scope(cfg.get('default_scope', 'mmpretrain')):
            if tta:
                tta_model, pipeline_cfg = tta_settings(cfg)
                model = MODELS.build(dict(tta_model, module=model)).to(device)
                model.eval()
            self.pipeline = Compose([TRANSFORMS.build(t) for t in pipeline_cfg])
        self.model, self.device = model, device

    def predict(self, paths: Sequence[str], topk: int = 5, batch_size: int = 32,
                num_workers: int = 0) -> Iterator[Tuple[int, np.ndarray, np.ndarray, str]]:
        """Predict ``paths`` in order.

        Args:
            paths (Sequence[str]): Image files.
            topk (int): Predictions per image. Defaults to 5.
            batch_size (int): Images per forward pass. Defaults to 32.
            num_workers (int): Loader processes. Defaults to 0.

        Yields:
            tuple: ``(index, class_ids, scores, error)`` per image, in input order;
            ``class_ids`` (str) and ``scores`` (softmax probabilities) are sorted by score and
            empty when ``error`` is not.
        """

        def top_of(batch: dict) -> Tuple[np.ndarray, np.ndarray]:
            with torch.no_grad():
                samples = self.model.test_step(batch)
            scores = torch.stack([s.pred_score for s in samples]).float().cpu()
            top_scores, top_labels = scores.topk(topk, dim=1)
            return top_labels.numpy(), top_scores.numpy()

        yield from predict_in_order(paths, self.pipeline, self.classes, topk, batch_size,
                                    num_workers, top_of)


def predict_in_order(paths: Sequence[str], pipeline, classes: Sequence[str], topk: int,
                     batch_size: int, num_workers: int,
                     top_of: Callable[[dict], Tuple[np.ndarray, np.ndarray]]
                     ) -> Iterator[Tuple[int, np.ndarray, np.ndarray, str]]:
    """Load ``paths`` through ``pipeline`` in batches and yield each image's top-k, in order.

    Shared by the PyTorch and the onnxruntime backends: only ``top_of`` differs. Memory holds
    one batch of scores (reduced to top-k before the next batch).

    Args:
        paths (Sequence[str]): Image paths.
        pipeline: The test pipeline (a ``Compose``).
        classes (Sequence[str]): Class ids, by label.
        topk (int): How many classes per image, in [1, len(classes)].
        batch_size (int): Images per batch.
        num_workers (int): DataLoader workers.
        top_of (Callable): A collated batch -> ``(labels, scores)``, both ``N x topk``, best
            first.

    Yields:
        tuple: ``(index, class_ids, scores, error)`` as :meth:`Predictor.predict`.
    """
    check_int('topk', topk, low=1, high=len(classes), owner=f'a model of {len(classes)} classes')
    names = np.asarray(classes, dtype=str)
    loader = DataLoader(ImagePathDataset(paths, pipeline), batch_size=batch_size,
                        num_workers=num_workers, collate_fn=collate, shuffle=False)
    empty = (np.zeros(0, dtype=str), np.zeros(0, dtype=np.float32))
    for indices, batch, failed in loader:
        rows = {index: (*empty, error) for index, error in failed}
        if batch is not None:
            labels, scores = top_of(batch)
            for row, index in enumerate(indices):
                rows[index] = (names[labels[row]], scores[row], '')
        for index in sorted(rows):
            yield (index, *rows[index])
