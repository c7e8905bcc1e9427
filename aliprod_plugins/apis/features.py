"""The classifier's input features of a trained model: per split, per image list, per class.

Shared by ``tools/extract_features.py``, ``tools/build_ncm.py`` and ``tools/enroll_classes.py``.
Every split is read with the config's test pipeline (no augmentation), the training split too
(with its cap, as trained on). Nothing here holds more than a batch of features plus, for the
class sums, one ``(num_classes, dim)`` matrix.
"""
import copy
from typing import Iterator, List, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.dataset import Compose
from mmengine.registry import DefaultScope
from mmengine.runner import Runner
from mmengine.runner.checkpoint import load_state_dict
from mmpretrain.registry import MODELS, TRANSFORMS
from torch.utils.data import DataLoader

from ..engine import safe_load
from .predictor import ImagePathDataset, collate

SPLITS = ('train', 'val', 'test')


def load_classifier(cfg: Config, checkpoint: str,
                    device: str = 'cpu') -> Tuple[torch.nn.Module, dict]:
    """Build the config's model with the checkpoint's weights (strict), in eval mode.

    Returns:
        tuple: ``(model, checkpoint dict)``.
    """
    model_cfg = copy.deepcopy(cfg.model)
    if cfg.get('data_preprocessor') is not None:  # as the Runner does
        model_cfg.setdefault('data_preprocessor', cfg.data_preprocessor)
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope', 'mmpretrain')):
        model = MODELS.build(model_cfg)
    ckpt = safe_load(checkpoint, map_location='cpu')
    state = ckpt.get('state_dict', ckpt)
    fc = getattr(getattr(model, 'head', None), 'fc', None)
    if not isinstance(fc, torch.nn.Linear):
        raise ValueError(f'expected a model whose head has a linear `fc` (LinearClsHead and '
                         f'subclasses), got head {type(getattr(model, "head", None)).__name__}')
    rows = state.get('head.fc.weight')
    if rows is not None and tuple(rows.shape) != tuple(fc.weight.shape):
        raise ValueError(f'{checkpoint}: head.fc.weight has shape {tuple(rows.shape)}, the '
                         f'config\'s head {tuple(fc.weight.shape)}: set '
                         f'model.head.num_classes={rows.shape[0]} (--cfg-options)')
    load_state_dict(model, state, strict=True)
    return model.to(device).eval(), ckpt


def split_loader(cfg: Config, split: str) -> DataLoader:
    """The split's dataloader with the test pipeline, in dataset order."""
    if split not in SPLITS:
        raise ValueError(f'split must be one of {SPLITS}, got {split!r}')
    loader_cfg = copy.deepcopy(cfg.get(f'{split}_dataloader'))
    if not loader_cfg:
        raise ValueError(f'the config has no {split}_dataloader')
    test_cfg = cfg.test_dataloader
    loader_cfg.dataset.pipeline = copy.deepcopy(test_cfg.dataset.pipeline)
    loader_cfg.sampler = dict(type='DefaultSampler', shuffle=False)
    loader_cfg.batch_size = test_cfg.get('batch_size', loader_cfg.get('batch_size', 1))
    loader_cfg.pop('batch_sampler', None)
    loader_cfg.drop_last = False
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope', 'mmpretrain')):
        return Runner.build_dataloader(loader_cfg)


@torch.no_grad()
def head_input(model: torch.nn.Module, data: dict) -> torch.Tensor:
    """The ``head.fc`` input ``(B, D)`` of a collated batch."""
    data = model.data_preprocessor(data, False)
    return model.head.pre_logits(model.extract_feat(data['inputs']))


def iter_split(model: torch.nn.Module, loader: DataLoader
               ) -> Iterator[Tuple[torch.Tensor, np.ndarray, List[str]]]:
    """Yield ``(features (B, D), labels (B,) int64, -1 if unlabelled, image paths)``."""
    for data in loader:
        labels = np.asarray([int(s.gt_label.reshape(-1)[0]) if 'gt_label' in s else -1
                             for s in data['data_samples']], dtype=np.int64)
        paths = [s.metainfo.get('img_path', '') for s in data['data_samples']]
        yield head_input(model, data), labels, paths


def iter_paths(model: torch.nn.Module, cfg: Config, paths: Sequence[str], batch_size: int = 32
               ) -> Iterator[Tuple[List[int], torch.Tensor]]:
    """Yield ``(indices into paths, features)`` of image files, test pipeline.

    Raises:
        ValueError: An image can not be read (naming it).
    """
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope', 'mmpretrain')):
        pipeline = Compose([TRANSFORMS.build(t) for t in cfg.test_dataloader.dataset.pipeline])
    loader = DataLoader(ImagePathDataset(paths, pipeline), batch_size=batch_size,
                        collate_fn=collate, shuffle=False)
    for indices, batch, failed in loader:
        if failed:
            index, error = failed[0]
            raise ValueError(f'image {paths[index]!r} can not be read: {error}')
        yield indices, head_input(model, batch)


def add_class_sums(sums: torch.Tensor, counts: torch.Tensor, feats: torch.Tensor,
                   labels: torch.Tensor) -> None:
    """Add each L2-normalised feature to its class's row of ``sums`` (in place).

    Args:
        sums (torch.Tensor): ``(C, D)`` running sums.
        counts (torch.Tensor): ``(C,)`` running image counts.
        feats (torch.Tensor): ``(B, D)`` features.
        labels (torch.Tensor): ``(B,)`` class indices in ``[0, C)``.
    """
    sums.index_add_(0, labels, F.normalize(feats.float(), dim=1).to(sums.dtype))
    counts.index_add_(0, labels, torch.ones_like(labels, dtype=counts.dtype))


def unit_rows(sums: torch.Tensor) -> torch.Tensor:
    """Each row scaled to norm 1 (the direction of the class mean); zero rows stay zero."""
    return F.normalize(sums, dim=1)


@torch.no_grad()
def train_feature_mean(model: torch.nn.Module, cfg: Config, max_images: int = 20000
                       ) -> Tuple[torch.Tensor, int]:
    """The mean head-input feature of (an evenly strided subset of) the training split.

    Returns:
        tuple: ``(mean (D,), images used)``. Memory: one batch plus the running sum.
    """
    loader = split_loader(cfg, 'train')
    n = len(loader.dataset)
    if n == 0:
        raise ValueError('the training split is empty: no feature mean to centre with')
    index = np.unique(np.linspace(0, n - 1, min(n, max_images)).round().astype(np.int64))
    subset = DataLoader(torch.utils.data.Subset(loader.dataset, index.tolist()),
                        batch_size=loader.batch_size, num_workers=loader.num_workers,
                        collate_fn=loader.collate_fn, shuffle=False)
    total = None
    for data in subset:
        feats = head_input(model, data).double().sum(0)
        total = feats if total is None else total + feats
    return (total / len(index)).float(), len(index)
