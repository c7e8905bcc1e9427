"""The AliProducts dataset: its layouts, and its start-up (read, cap, check files or pack)."""
from typing import List, Optional, Sequence, Union

from mmengine.logging import MMLogger
from mmpretrain.registry import DATASETS

from .annotations import FORMATS, load_annotation
from .capping import cap_per_class, count_summary, counts_message
from .file_check import check_all_exist
from .index_dataset import PathIndexDataset
from .lmdb_pack import resolve_pack_dir, use_pack
from .on_error import ResampleOnError
from .options import (CHECK_FILES, SPLITS, check_labels, check_options, default_metainfo,
                      default_paths)
from .path_index import PathIndex, resolve_indices


@DATASETS.register_module()
class AliProductsDataset(ResampleOnError, PathIndexDataset):
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
    be in this JSON schema or a list file (paths relative to ``data_prefix``); the format is
    read from the suffix or the content (:mod:`.annotations`); ``ann_format`` forces it.

    Samples are held in a :class:`PathIndex` (three numpy arrays that DataLoader workers share
    without copying); :meth:`get_gt_labels` returns its label array (read-only) and
    :attr:`class_counts` / :attr:`class_counts_before_cap` the per-class counts. Missing images
    are found at start-up, not hours into training (:mod:`.file_check`: one ``os.listdir`` per
    folder; the error gives the count and the first paths). With ``lmdb=DIR`` the images are
    read from a pack of ``tools/pack_lmdb.py`` through MMEngine's fileio, and the image folders
    are not needed; a pack made from other data is refused at start-up (:mod:`.lmdb_pack`).

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

    SPLITS = SPLITS
    CHECK_FILES = CHECK_FILES

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
        num_classes, max_per_class, cap_seed = check_options(
            type(self).__name__, split, num_classes, max_per_class, cap_seed, check_files,
            ann_format, FORMATS, lmdb)
        self.lmdb = lmdb
        self.init_on_error(on_error, max_resample)
        self.split, self.num_classes = split, num_classes
        self.max_per_class, self.cap_seed = max_per_class, cap_seed
        self.check_files, self._ann_format = check_files, ann_format
        self.cache_index = bool(cache_index)
        self.ann_format: Optional[str] = None
        self._index: Optional[PathIndex] = None
        ann_file, data_prefix = default_paths(data_root, split, ann_file, data_prefix)
        super().__init__(
            ann_file=ann_file,
            metainfo=default_metainfo(metainfo, num_classes),
            data_root=data_root,
            data_prefix=data_prefix,
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
        check_labels(index.has_labels, self.ann_file, self.split, self.on_error)
        listed = len(index)
        self._class_counts_before_cap = index.class_counts(self.num_classes)
        if self.max_per_class is not None:
            index = index.take(cap_per_class(index.labels, self.max_per_class, self.cap_seed))
        if self._indices is not None:
            index = index.take(resolve_indices(self._indices, len(index)))
        self._set_index(index)
        self._log_summary()
        if self.lmdb is not None:
            use_pack(self, self.lmdb, check_keys=self.check_files == 'list')
        elif self.check_files == 'list':
            check_all_exist(index, self.img_prefix, self.ann_file, listed,
                            capped=self.max_per_class is not None,
                            subset=self._indices is not None)
        self._fully_initialized = True

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

    def _set_index(self, index: PathIndex) -> None:
        super()._set_index(index)
        self.reset_on_error_cache()

    def _log_summary(self) -> None:
        name = f'{type(self).__name__}({self.split!r}, {self.ann_file})'
        MMLogger.get_current_instance().info(
            f'{name}: {len(self._index)} unlabelled images' if not self._index.has_labels else
            counts_message(name, self._class_counts, self._class_counts_before_cap,
                           self.max_per_class, self.cap_seed))
