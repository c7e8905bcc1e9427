"""The AliProducts dataset: the released layout, reproducible head capping, a compact index."""
import copy
import os.path as osp
from typing import Any, List, Optional, Sequence, Union

import numpy as np
from mmengine.dataset.base_dataset import force_full_init
from mmengine.logging import MMLogger
from mmpretrain.datasets import BaseDataset
from mmpretrain.registry import DATASETS

from .annotations import FORMATS, load_annotation
from .capping import cap_per_class, count_summary
from .file_check import find_missing, missing_files_message
from .lmdb_pack import bind_loaders, check_pack, resolve_pack_dir, warn_if_smaller
from .on_error import ResampleOnError
from .path_index import PathIndex


def _check_choice(name: str, value: Any, choices: Sequence[str]) -> None:
    if value not in choices:
        raise ValueError(f'{name} must be one of {tuple(choices)}, got {value!r}')


def _check_int(name: str, value: Any, low: int, allow_none: bool = False) -> None:
    if allow_none and value is None:
        return
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        none = ' or None' if allow_none else ''
        raise ValueError(f'{name} must be an int >= {low}{none}, got {value!r}')


def _default_annotation(data_root: str, split: str) -> tuple:
    """``(<split>.json, <split>)``, or ``(<split>.txt, '')`` when only the list file exists."""
    listed = split + '.txt'
    if (not osp.isfile(osp.join(data_root or '', split + '.json'))
            and osp.isfile(osp.join(data_root or '', listed))):
        return listed, ''
    return split + '.json', split


@DATASETS.register_module()
class AliProductsDataset(ResampleOnError, BaseDataset):
    """AliProducts (50,030 product classes, long-tailed) and other catalogues in its layouts.

    The layout released by the challenge (``data_root``)::

        data/aliproducts/
        ├── train.json    {"images": [{"class_id": "00000", "image_id": "1849756.jpg"}, ...]}
        ├── val.json      same schema
        ├── test.json     {"images": [{"image_id": "....jpg"}, ...]}   (no labels)
        ├── train/<class_id>/<image_id>
        ├── val/<class_id>/<image_id>
        └── test/<image_id>

    Your own catalogue needs only ``data_root``: a folder with list files (labels ``0`` to
    ``num_classes - 1``)::

        data/mine/
        ├── train.txt     one "relative/path.jpg <label>" per line, relative to data/mine
        ├── val.txt
        └── ...           the images, anywhere below data/mine

    The label is ``int(class_id)``; a class without images in a split keeps its id, so
    ``metainfo['classes']`` is always the ``num_classes`` 5-digit ids and predictions map
    straight to submission ids. An image's path is ``<data_prefix>/<label:05d>/<image_id>``
    (``<data_prefix>/<image_id>`` for the unlabelled test split). An explicit ``ann_file`` may
    be another file in this JSON schema, or a list in the MMPretrain / PaddleClas format, one
    ``relative/path.jpg <label>`` per line (paths relative to ``data_prefix``), so that other
    long-tailed catalogues work too. The format is read from the suffix (``.json``) or else
    from the content (JSON starts with ``{``); ``ann_format`` forces it.

    Samples are held in a :class:`PathIndex` (one int64 label array, one bytes buffer of names
    and its offsets), never as a list of dicts, so building is fast, light, and DataLoader
    workers share it without copying. :meth:`get_gt_labels` returns the label array itself
    (read-only); :attr:`class_counts` / :attr:`class_counts_before_cap` give per-class counts.

    Missing images are found at start-up, not hours into training: with the default
    ``check_files='list'`` every folder that should hold images is listed once
    (``os.listdir``, one call per class folder: seconds for 2.5M images, unlike one ``stat``
    per file), and a ``FileNotFoundError`` reports the number of missing files and the first
    few full paths. ``check_files='off'`` skips the check (e.g. for an object store).

    With ``lmdb=DIR`` the images are read from an LMDB pack written by ``tools/pack_lmdb.py``
    (pre-resized JPEGs keyed by their path relative to the image prefix) through MMEngine's
    fileio: the pipeline's loading transform gets ``backend_args`` of the registered
    ``'aliprod_lmdb'`` backend, which each DataLoader worker opens lazily, read-only and
    without locks. At start-up the pack's metadata must match this dataset (annotation
    digest, split, cap) and its keys must cover every image, else a ``ValueError`` names the
    pack and what differs; the image folders are not needed.

    Args:
        data_root (str): Root of the layout above. Defaults to ''.
        split (str): ``'train'``, ``'val'`` or ``'test'``; picks the default ``ann_file``
            (``<split>.json``) and ``data_prefix`` (``<split>``). Only ``'test'`` may be
            unlabelled and only ``'train'`` may be capped. Defaults to 'train'.
        ann_file (str, optional): Annotation file, relative to ``data_root``.
            Defaults to None: ``<split>.json``, or ``<split>.txt`` (a list file) when only
            that exists in ``data_root``.
        data_prefix (str | dict, optional): Image folder relative to ``data_root``, or
            ``dict(img_path=...)``. Defaults to None: ``<split>``, or ``''`` for the default
            ``<split>.txt`` (its paths are relative to ``data_root``, the list's folder, as in
            ``tools/infer.py``).
        num_classes (int): Number of classes; labels must lie in ``[0, num_classes)``.
            Defaults to 50030.
        max_per_class (int, optional): Keep at most this many images of each class, chosen
            uniformly at random by ``cap_seed`` (same selection on every rank, worker, run
            and resume). Training split only. Defaults to None (no cap).
        cap_seed (int): Seed of the capping selection. Defaults to 0.
        on_error (str): What to do when a loading transform raises ``ImageLoadError``:
            ``'raise'`` lets it through; ``'resample'`` loads another image of the same class
            (deterministic in the index and attempt), warns once per bad path and records the
            bad paths in the data sample's metainfo ``'bad_image_paths'``. Defaults to 'raise'.
        max_resample (int): Replacement attempts before ``'resample'`` gives up with a
            ``RuntimeError``. Defaults to 10.
        check_files (str): ``'list'`` (check that every image exists, listing each folder
            once) or ``'off'``. Defaults to 'list'.
        ann_format (str): ``'auto'``, ``'json'`` or ``'list'``. Defaults to 'auto'.
        cache_index (bool): Keep the parsed index in ``<ann_file>.aliprod-index.npz`` and
            reuse it while the annotation's content digest matches (a second start then
            takes a fraction of a second; an edited annotation is parsed again). Defaults to
            False.
        lmdb (str, optional): Read the images from this LMDB pack folder (absolute, or
            relative to ``data_root``) instead of the image files; ``check_files='list'``
            then checks the pack's keys. Defaults to None (image files).
        metainfo (dict, optional): Meta information; ``classes`` defaults to the 5-digit ids.
        pipeline (Sequence): Processing pipeline. Defaults to ().
        test_mode (bool): Whether this is a test / validation set. Defaults to False.
        lazy_init (bool): Whether to defer reading the annotation. Defaults to False.
        indices (int | Sequence[int], optional): Keep only these samples (after capping), as
            in MMEngine. Defaults to None.
        max_refetch (int): As in MMEngine's ``BaseDataset``. Defaults to 1000.
    """

    SPLITS = ('train', 'val', 'test')
    CHECK_FILES = ('list', 'off')

    def __init__(self,
                 data_root: str = '',
                 split: str = 'train',
                 ann_file: Optional[str] = None,
                 data_prefix: Union[str, dict, None] = None,
                 num_classes: int = 50030,
                 max_per_class: Optional[int] = None,
                 cap_seed: int = 0,
                 on_error: str = 'raise',
                 max_resample: int = 10,
                 check_files: str = 'list',
                 ann_format: str = 'auto',
                 cache_index: bool = False,
                 lmdb: Optional[str] = None,
                 metainfo: Optional[dict] = None,
                 pipeline: Sequence = (),
                 test_mode: bool = False,
                 lazy_init: bool = False,
                 indices: Union[int, Sequence[int], None] = None,
                 max_refetch: int = 1000) -> None:
        _check_choice('split', split, self.SPLITS)
        _check_int('num_classes', num_classes, 1)
        _check_int('max_per_class', max_per_class, 1, allow_none=True)
        _check_int('cap_seed', cap_seed, 0)
        _check_choice('check_files', check_files, self.CHECK_FILES)
        _check_choice('ann_format', ann_format, ('auto', ) + FORMATS)
        if max_per_class is not None and split != 'train':
            raise ValueError(f'max_per_class applies to the training split only, got '
                             f'max_per_class={max_per_class!r} with split={split!r}')
        if lmdb is not None and (not isinstance(lmdb, str) or not lmdb):
            raise ValueError(f'lmdb must be a pack folder (str) or None, got {lmdb!r}')
        self.lmdb = lmdb
        self.init_on_error(on_error, max_resample)
        self.split, self.num_classes = split, int(num_classes)
        self.max_per_class, self.cap_seed = max_per_class, int(cap_seed)
        self.check_files, self._ann_format = check_files, ann_format
        self.cache_index = bool(cache_index)
        self.ann_format: Optional[str] = None
        self._index: Optional[PathIndex] = None
        metainfo = dict(metainfo or {})
        classes = metainfo.setdefault('classes', tuple(f'{i:05d}' for i in range(num_classes)))
        if len(classes) != num_classes:
            raise ValueError(f"metainfo['classes'] must hold num_classes={num_classes} names, "
                             f'got {len(classes)}')
        default_ann, default_prefix = _default_annotation(data_root, split)
        super().__init__(
            ann_file=default_ann if ann_file is None else ann_file,
            metainfo=metainfo,
            data_root=data_root,
            data_prefix=(default_prefix if ann_file is None else split)
            if data_prefix is None else data_prefix,
            indices=indices,
            serialize_data=False,
            pipeline=pipeline,
            test_mode=test_mode,
            lazy_init=lazy_init,
            max_refetch=max_refetch)

    def full_init(self) -> None:
        """Read the annotation, cap the head, check the files (once)."""
        if self._fully_initialized:
            return
        index, self.ann_format = load_annotation(self.ann_file, self.num_classes, self._ann_format,
                                                 self.cache_index)
        if len(index) == 0:
            raise RuntimeError(f'Found 0 images in {self.ann_file!r} (split {self.split!r}, '
                               f'data_root {self.data_root!r}, images under '
                               f'{self.img_prefix!r}); expected at least one entry')
        if not index.has_labels and self.split != 'test':
            raise ValueError(f'{self.ann_file}: no entry has a label (class_id), but split '
                             f'{self.split!r} needs labels; only split="test" may be unlabelled')
        if not index.has_labels and self.on_error == 'resample':
            raise ValueError(f'on_error="resample" replaces an image by one of the same class, '
                             f'but {self.ann_file} has no labels; use on_error="raise"')
        listed = len(index)
        self._class_counts_before_cap = self._bincount(index)
        if self.max_per_class is not None:
            index = index.take(cap_per_class(index.labels, self.max_per_class, self.cap_seed))
        if self._indices is not None:
            index = index.take(self._resolve_indices(self._indices, len(index)))
        self._set_index(index)
        self._log_summary()
        if self.lmdb is not None:
            self._use_pack()
        elif self.check_files == 'list':
            missing = find_missing(index, self.img_prefix)
            if len(missing):
                kept_by = ' and '.join(what for what, on in (
                    ('capping', self.max_per_class is not None),
                    ('`indices`', self._indices is not None)) if on)
                raise FileNotFoundError(missing_files_message(
                    index, self.img_prefix, missing, self.ann_file, listed=listed,
                    kept_by=kept_by))
        self._fully_initialized = True

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
        self._set_index(self._index.take(self._resolve_indices(indices, len(self))))

    @force_full_init
    def get_subset(self, indices: Union[int, Sequence[int]]) -> 'AliProductsDataset':
        """Return a copy holding only ``indices``; this dataset is unchanged."""
        subset = copy.copy(self)
        subset.get_subset_(indices)
        return subset

    def extra_repr(self) -> List[str]:
        """Split, annotation, image prefix, capping and per-class counts."""
        body = [
            f'Split: \t{self.split}',
            f'Annotation file: \t{self.ann_file} ({self.ann_format or "not read yet"})',
            f'Prefix of images: \t{self.img_prefix}'
        ]
        if self.lmdb is not None:
            body.append(f'LMDB pack: \t{resolve_pack_dir(self.lmdb, self.data_root)}')
        if self.max_per_class is not None:
            body.append(f'Max per class: \t{self.max_per_class} (cap_seed={self.cap_seed})')
        if self._fully_initialized and self._index.has_labels:
            body.append(f'Per-class counts: \t{count_summary(self._class_counts)}')
        return body

    def _use_pack(self) -> None:
        """Check the pack against this dataset and point the pipeline's loader at it."""
        pack_dir = resolve_pack_dir(self.lmdb, self.data_root)
        loaders = bind_loaders(self.pipeline, pack_dir, self.img_prefix, type(self).__name__)
        meta = check_pack(self, pack_dir, check_keys=self.check_files == 'list')
        warn_if_smaller(meta, loaders, pack_dir)

    def _ensure_init(self) -> None:
        if not self._fully_initialized:
            self.full_init()

    def _bincount(self, index: PathIndex) -> np.ndarray:
        counts = np.zeros(self.num_classes, dtype=np.int64)
        if index.has_labels:
            counts += np.bincount(index.labels, minlength=self.num_classes)
        counts.flags.writeable = False
        return counts

    def _set_index(self, index: PathIndex) -> None:
        self._index = index
        self._class_counts = self._bincount(index)
        self.reset_on_error_cache()

    @staticmethod
    def _resolve_indices(indices: Union[int, Sequence[int]], n: int) -> np.ndarray:
        if isinstance(indices, (int, np.integer)):
            k = min(abs(int(indices)), n)
            return np.arange(n - k, n) if indices < 0 else np.arange(k)
        idx = np.asarray(indices, dtype=np.int64).reshape(-1)
        if len(idx) and (idx.min() < -n or idx.max() >= n):
            raise ValueError(f'indices must lie in [-{n}, {n}) for {n} samples, '
                             f'got values from {idx.min()} to {idx.max()}')
        return np.where(idx < 0, idx + n, idx)

    def _log_summary(self) -> None:
        logger = MMLogger.get_current_instance()
        name = f'{type(self).__name__}({self.split!r}, {self.ann_file})'
        if not self._index.has_labels:
            logger.info(f'{name}: {len(self._index)} unlabelled images')
        elif self.max_per_class is None:
            logger.info(f'{name}: {count_summary(self._class_counts)}')
        else:
            before = int(self._class_counts_before_cap.sum())
            removed = before - int(self._class_counts.sum())
            logger.info(f'{name}: capped at {self.max_per_class} images per class '
                        f'(cap_seed={self.cap_seed}); before: '
                        f'{count_summary(self._class_counts_before_cap)}; after: '
                        f'{count_summary(self._class_counts)}; removed {removed} '
                        f'({100.0 * removed / before:.1f}%)')
