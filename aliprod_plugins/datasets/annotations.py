"""Read annotation files into a :class:`PathIndex` without one Python object per sample.

Two formats, picked by :func:`detect_format`:

- ``json``, the AliProducts schema:
  ``{"images": [{"class_id": "00000", "image_id": "1849756.jpg"}, ...]}``. ``class_id`` is a
  decimal string and ``int(class_id)`` is the label; an annotation where no entry has a
  ``class_id`` (the test split) is unlabelled. Other keys are ignored.
- ``list``, the MMPretrain / PaddleClas format: one ``relative/path.jpg <label>`` per line
  (the label is the last space- or tab-separated field; blank lines are skipped). A file
  where no line has a label is an unlabelled list of paths.

Both are parsed in pieces of ``annotation_utils.CHUNK_BYTES``, so that the per-entry Python
objects of one piece at most exist at a time; labels and names go straight into numpy buffers.
Every error names the file and the entry (JSON index or list line) and says what was expected.
This module is the dispatcher on top: it imports the two parsers, which import their shared
helpers from :mod:`.annotation_utils`.
"""
import codecs
import os.path as osp
from typing import Tuple

from . import json_annotation, list_annotation
from .path_index import PathIndex

FORMATS = ('json', 'list')


def detect_format(path: str, head: bytes) -> str:
    """Pick the format: a ``.json`` suffix or content starting with ``{`` is JSON, else list."""
    if path.lower().endswith('.json') or head.lstrip(codecs.BOM_UTF8).lstrip()[:1] == b'{':
        return 'json'
    return 'list'


def load_annotation(path: str,
                    num_classes: int,
                    fmt: str = 'auto',
                    cache: bool = False) -> Tuple[PathIndex, str]:
    """Read an annotation file.

    Args:
        path (str): Annotation file.
        num_classes (int): Labels must lie in ``[0, num_classes)``.
        fmt (str): ``'json'``, ``'list'`` or ``'auto'`` (see :func:`detect_format`).
            Defaults to ``'auto'``.
        cache (bool): Reuse / write ``<path>.aliprod-index.npz``, keyed on the file's content
            (see :mod:`.index_cache`). Defaults to False.

    Returns:
        tuple[PathIndex, str]: The index and the format that was read.
    """
    if fmt not in ('auto', ) + FORMATS:
        raise ValueError(f'ann_format must be one of {("auto", ) + FORMATS}, got {fmt!r}')
    if not osp.isfile(path):
        raise FileNotFoundError(f'annotation file {path!r} not found')
    if fmt == 'auto':
        with open(path, 'rb') as f:
            fmt = detect_format(path, f.read(64))
    # looked up at call time, so that a replaced parser (tests, profiling) takes effect
    parse = json_annotation.parse_json if fmt == 'json' else list_annotation.parse_list
    if cache:
        from .index_cache import cached
        return cached(path, fmt, num_classes, parse)[0], fmt
    return parse(path, num_classes), fmt
