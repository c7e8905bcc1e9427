"""A ``BaseDataset`` whose samples live in a :class:`PathIndex`, never in a list of dicts.

MMEngine's ``BaseDataset`` keeps one dict per sample (``data_list``), which at AliProducts'
2.5M images costs gigabytes and is copied page by page into every DataLoader worker. This base
serves ``len``, ``get_data_info``, the labels, per-class counts and subsets from the index's
three numpy arrays instead. A subclass builds the index in ``full_init`` and hands it to
:meth:`_set_index`, with ``num_classes`` set and ``_class_counts_before_cap`` its counts
before any capping.
"""
import copy
import os.path as osp
from typing import List, Optional, Sequence, Union

import numpy as np
from mmengine.dataset.base_dataset import force_full_init
from mmpretrain.datasets import BaseDataset

from .path_index import PathIndex, resolve_indices


class PathIndexDataset(BaseDataset):
    """The sample access of a dataset held in a :class:`PathIndex` (not registered).

    Subclasses set ``num_classes`` and, in ``full_init``, ``_class_counts_before_cap``, and
    call :meth:`_set_index`; ``img_prefix`` joins the index's relative paths.
    """

    num_classes: int
    _index: Optional[PathIndex]
    _class_counts: np.ndarray
    _class_counts_before_cap: np.ndarray

    @property
    def has_labels(self) -> bool:
        """Whether the split has labels (False for the unlabelled test split)."""
        self._ensure_init()
        return self._index.has_labels

    @property
    def class_counts_before_cap(self) -> np.ndarray:
        """Images per class in the annotation, before capping (int64, length ``num_classes``)."""
        self._ensure_init()
        return self._class_counts_before_cap

    @property
    def class_counts(self) -> np.ndarray:
        """Images per class after capping (int64, length ``num_classes``)."""
        self._ensure_init()
        return self._class_counts

    @force_full_init
    def __len__(self) -> int:
        return len(self._index)

    @force_full_init
    def get_data_info(self, idx: int) -> dict:
        """Return ``dict(img_path=..., gt_label=..., sample_idx=...)`` of sample ``idx``.

        ``gt_label`` is absent for the unlabelled test split.
        """
        n = len(self._index)
        sample_idx = int(idx) + n if idx < 0 else int(idx)
        if not 0 <= sample_idx < n:
            raise IndexError(f'index {idx} out of range for {n} samples')
        info = dict(
            img_path=osp.join(self.img_prefix, self._index.relative_path(sample_idx)),
            sample_idx=sample_idx)
        if self._index.has_labels:
            info['gt_label'] = int(self._index.labels[sample_idx])
        return info

    @force_full_init
    def get_gt_labels(self) -> np.ndarray:
        """All labels as one read-only int64 array (all ``-1`` when unlabelled); no copy."""
        return self._index.labels

    @force_full_init
    def get_cat_ids(self, idx: int) -> List[int]:
        """The label of sample ``idx`` as a one-element list (empty when unlabelled)."""
        return [int(self._index.labels[idx])] if self._index.has_labels else []

    @force_full_init
    def get_subset_(self, indices: Union[int, Sequence[int]]) -> None:
        """Keep only ``indices`` (an int keeps the first / last few), in place."""
        self._set_index(self._index.take(resolve_indices(indices, len(self))))

    @force_full_init
    def get_subset(self, indices: Union[int, Sequence[int]]) -> 'PathIndexDataset':
        """Return a copy holding only ``indices``; this dataset is unchanged."""
        subset = copy.copy(self)
        subset.get_subset_(indices)
        return subset

    def _ensure_init(self) -> None:
        if not self._fully_initialized:
            self.full_init()

    def _set_index(self, index: PathIndex) -> None:
        self._index = index
        self._class_counts = index.class_counts(self.num_classes)
