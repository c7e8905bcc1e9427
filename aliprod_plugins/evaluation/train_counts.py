"""Where the training-set class counts of the shot metrics come from.

One rule for training-time validation, ``tools/test.py`` and ``tools/tau_norm.py``:

1. ``class_counts`` given to ``LongTailAccuracy`` (a list, an array or a ``.npy`` file) wins;
2. otherwise :class:`TrainCountsHook` gives it ``class_counts`` of the run's training dataset:
   the dataset the train loop uses in a training run, or the one ``train_dataloader.dataset``
   of the config builds when only testing. That is ``AliProductsDataset.class_counts``, i.e.
   **after** ``max_per_class`` capping, the images the model was trained on (choose
   ``counts_attr='class_counts_before_cap'`` for the raw split). Datasets without that
   attribute fall back to ``np.bincount(dataset.get_gt_labels())``;
3. with neither, the shot metrics are skipped with one warning.

The counts come from the dataset's annotation alone: :func:`build_train_dataset` builds it
without its pipeline, without its LMDB pack and without the image-file check, so a packed
config (``lmdb=...``), a fused loading transform or a test machine without the training images
gives the same counts as the image folders would. :func:`train_class_counts` is the one call
for tools (``tools/test.py`` through the hook, ``tools/tau_norm.py --logit-adjust``).
"""
import copy
import inspect
import os.path as osp
from typing import Any, Optional, Sequence, Union

import numpy as np

CountsLike = Union[str, Sequence[int], np.ndarray]


def load_class_counts(counts: CountsLike, what: str = 'class_counts') -> np.ndarray:
    """Read class counts from a list, an array or a ``.npy`` file.

    Args:
        counts (str | Sequence[int] | np.ndarray): The counts, or a path to a ``.npy`` file.
        what (str): Name used in error messages. Defaults to ``'class_counts'``.

    Returns:
        np.ndarray: 1-D int64 counts.
    """
    source = ''
    if isinstance(counts, str):
        if not counts.endswith('.npy'):
            raise ValueError(f'{what} must be a list, an array or a path to a .npy file, '
                             f'got {counts!r}')
        if not osp.isfile(counts):
            raise FileNotFoundError(f'{what} file {counts!r} does not exist')
        source = f' (from {counts})'
        counts = np.load(counts, allow_pickle=False)
    arr = np.asarray(counts)
    if arr.ndim != 1 or arr.size == 0 or not np.issubdtype(arr.dtype, np.number):
        raise ValueError(f'{what}{source} must be a non-empty 1-D array of image counts per '
                         f'class, got shape {arr.shape} dtype {arr.dtype}')
    if np.issubdtype(arr.dtype, np.floating) and not np.all(arr == np.round(arr)):
        raise ValueError(f'{what}{source} must hold whole numbers of images, got {arr[:5]}...')
    if (arr < 0).any():
        raise ValueError(f'{what}{source} must be >= 0, got {int(arr.min())} for class '
                         f'{int(np.argmin(arr))}')
    return arr.astype(np.int64)


def counts_from_dataset(dataset: Any, counts_attr: str = 'class_counts',
                        num_classes: Optional[int] = None) -> Optional[np.ndarray]:
    """Return a dataset's class counts, or None when it has neither counts nor labels.

    Looks for ``counts_attr`` (``AliProductsDataset.class_counts``), then for
    ``get_gt_labels()`` (any MMPretrain dataset), then inside wrappers (``.dataset``).

    Args:
        dataset: A built dataset.
        counts_attr (str): Attribute holding the counts. Defaults to ``'class_counts'``.
        num_classes (int, optional): Pad the bincount fallback to this length.

    Returns:
        np.ndarray or None: int64 counts.
    """
    while dataset is not None:
        counts = getattr(dataset, counts_attr, None)
        if counts is not None:
            return load_class_counts(np.asarray(counts), f'{type(dataset).__name__}.{counts_attr}')
        if hasattr(dataset, 'get_gt_labels') and getattr(dataset, 'has_labels', True):
            labels = np.asarray(dataset.get_gt_labels(), dtype=np.int64).reshape(-1)
            if labels.size and labels.min() >= 0:
                meta = getattr(dataset, 'metainfo', None) or {}
                length = max(num_classes or 0, len(meta.get('classes') or ()))
                return np.bincount(labels, minlength=length).astype(np.int64)
        dataset = getattr(dataset, 'dataset', None)
    return None


def train_class_counts(cfg: Any, counts_attr: str = 'class_counts') -> np.ndarray:
    """The training class counts of a config, from its ``train_dataloader.dataset``.

    Args:
        cfg (Config | dict): A config with ``train_dataloader``.
        counts_attr (str): ``'class_counts'`` (after capping: what the model trains on) or
            ``'class_counts_before_cap'``. Defaults to ``'class_counts'``.

    Returns:
        np.ndarray: int64 images per class.

    Raises:
        ValueError: The config has no training dataset, or it has neither counts nor labels.
    """
    dataset = build_train_dataset(cfg.get('train_dataloader'))
    if dataset is None:
        raise ValueError('training class counts expect a train_dataloader.dataset in the '
                         'config, got none')
    counts = counts_from_dataset(dataset, counts_attr)
    if counts is None:
        raise ValueError(f'training class counts: {type(dataset).__name__} of '
                         f'train_dataloader.dataset has no {counts_attr} and no labels')
    return counts


def build_train_dataset(train_dataloader_cfg: Optional[dict]) -> Any:
    """Build the training dataset of a config from its annotation only.

    The pipelines are dropped, and for datasets that take them ``lmdb=None`` and
    ``check_files='off'``: counting needs neither the images nor the pack (nor a loading
    transform that a pack would bind to).

    Args:
        train_dataloader_cfg (dict, optional): The config's ``train_dataloader``.

    Returns:
        The dataset, or None when the config has no training dataset.
    """
    from mmpretrain.registry import DATASETS
    if not train_dataloader_cfg or not train_dataloader_cfg.get('dataset'):
        return None
    dataset_cfg = copy.deepcopy(train_dataloader_cfg['dataset'])
    _annotation_only(dataset_cfg, DATASETS)
    return DATASETS.build(dataset_cfg)


def _annotation_only(cfg: Any, registry: Any) -> None:
    # wrappers (ClassBalancedDataset, ConcatDataset, ...) nest datasets: strip each of them
    if isinstance(cfg, dict):
        if 'pipeline' in cfg:
            cfg['pipeline'] = []
        params = _init_params(cfg.get('type'), registry)
        for key, value in (('lmdb', None), ('check_files', 'off')):
            if key in params:
                cfg[key] = value
        for value in cfg.values():
            _annotation_only(value, registry)
    elif isinstance(cfg, (list, tuple)):
        for value in cfg:
            _annotation_only(value, registry)


def _init_params(type_: Any, registry: Any) -> tuple:
    cls = registry.get(type_) if isinstance(type_, str) else type_
    if not inspect.isclass(cls):
        return ()
    return tuple(inspect.signature(cls.__init__).parameters)
