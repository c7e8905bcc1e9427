"""The options of :class:`AliProductsDataset`: their checks and their defaults.

Int options go through :mod:`aliprod_plugins.checks` (``AliProductsDataset: num_classes
expected an int >= 1, got 0``); a choice is refused with the choices it had
(``split must be one of ('train', 'val', 'test'), got 'valid'``). The defaults here are those
of the released layout: ``<split>.json`` and the ``<split>`` image folder, or a ``<split>.txt``
list file whose paths are relative to ``data_root``.
"""
import os.path as osp
from typing import Any, Optional, Sequence, Tuple, Union

from aliprod_plugins.checks import check_int

SPLITS = ('train', 'val', 'test')
CHECK_FILES = ('list', 'off')


def check_choice(name: str, value: Any, choices: Sequence[str]) -> None:
    """Refuse ``value`` unless it is one of ``choices``.

    Raises:
        ValueError: ``split must be one of ('train', 'val', 'test'), got 'valid'``.
    """
    if value not in choices:
        raise ValueError(f'{name} must be one of {tuple(choices)}, got {value!r}')


def check_options(owner: str, split: str, num_classes: Any, max_per_class: Any, cap_seed: Any,
                  check_files: str, ann_format: str, ann_formats: Sequence[str],
                  lmdb: Any) -> Tuple[int, Optional[int], int]:
    """Check the dataset's own options (``on_error`` is checked by its mixin).

    Args:
        owner (str): The dataset class's name, for the messages.
        split (str): One of :data:`SPLITS`.
        num_classes: An int >= 1.
        max_per_class: An int >= 1 or None; not None only for the training split.
        cap_seed: An int >= 0.
        check_files (str): One of :data:`CHECK_FILES`.
        ann_format (str): ``'auto'`` or one of ``ann_formats``.
        ann_formats (Sequence[str]): The annotation formats that can be read.
        lmdb: A non-empty str (a pack folder) or None.

    Returns:
        tuple[int, int | None, int]: ``num_classes``, ``max_per_class`` and ``cap_seed`` as
        Python ints.

    Raises:
        ValueError: The first bad option, named with what was expected and what was given.
    """
    check_choice('split', split, SPLITS)
    num_classes = check_int('num_classes', num_classes, low=1, owner=owner)
    max_per_class = check_int('max_per_class', max_per_class, low=1, allow_none=True,
                              owner=owner)
    cap_seed = check_int('cap_seed', cap_seed, low=0, owner=owner)
    check_choice('check_files', check_files, CHECK_FILES)
    check_choice('ann_format', ann_format, ('auto', ) + tuple(ann_formats))
    if max_per_class is not None and split != 'train':
        raise ValueError(f'max_per_class applies to the training split only, got '
                         f'max_per_class={max_per_class!r} with split={split!r}')
    if lmdb is not None and (not isinstance(lmdb, str) or not lmdb):
        raise ValueError(f'lmdb must be a pack folder (str) or None, got {lmdb!r}')
    return num_classes, max_per_class, cap_seed


def check_labels(has_labels: bool, ann_file: str, split: str, on_error: str) -> None:
    """Refuse an unlabelled annotation where the split or ``on_error`` needs labels.

    Raises:
        ValueError: Naming the annotation file and what needs the labels.
    """
    if not has_labels and split != 'test':
        raise ValueError(f'{ann_file}: no entry has a label (class_id), but split '
                         f'{split!r} needs labels; only split="test" may be unlabelled')
    if not has_labels and on_error == 'resample':
        raise ValueError(f'on_error="resample" replaces an image by one of the same class, '
                         f'but {ann_file} has no labels; use on_error="raise"')


def default_metainfo(metainfo: Optional[dict], num_classes: int) -> dict:
    """A copy of ``metainfo`` whose ``classes`` default to the 5-digit ids ``00000``, ...

    Raises:
        ValueError: ``metainfo['classes']`` does not hold ``num_classes`` names.
    """
    metainfo = dict(metainfo or {})
    classes = metainfo.setdefault('classes', tuple(f'{i:05d}' for i in range(num_classes)))
    if len(classes) != num_classes:
        raise ValueError(f"metainfo['classes'] must hold num_classes={num_classes} names, "
                         f'got {len(classes)}')
    return metainfo


def default_paths(data_root: str, split: str, ann_file: Optional[str],
                  data_prefix: Union[str, dict, None]) -> Tuple[str, Union[str, dict]]:
    """The annotation file and image prefix of a split, where not given.

    Args:
        data_root (str): The dataset's root.
        split (str): The split.
        ann_file (str, optional): The given annotation file, or None.
        data_prefix (str | dict, optional): The given image prefix, or None.

    Returns:
        tuple[str, str | dict]: ``(<split>.json, <split>)``; ``(<split>.txt, '')`` when only
        the list file exists in ``data_root``; a given ``ann_file`` keeps ``<split>`` as the
        default prefix; a given ``data_prefix`` is kept.
    """
    if ann_file is None:
        listed = split + '.txt'
        if (not osp.isfile(osp.join(data_root or '', split + '.json'))
                and osp.isfile(osp.join(data_root or '', listed))):
            ann_file, default_prefix = listed, ''
        else:
            ann_file, default_prefix = split + '.json', split
    else:
        default_prefix = split
    return ann_file, default_prefix if data_prefix is None else data_prefix
