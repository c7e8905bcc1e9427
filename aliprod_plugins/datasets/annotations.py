"""Read annotation files into a :class:`PathIndex` without one Python object per sample.

Two formats, picked by :func:`detect_format`:

- ``json``, the AliProducts schema:
  ``{"images": [{"class_id": "00000", "image_id": "1849756.jpg"}, ...]}``. ``class_id`` is a
  decimal string and ``int(class_id)`` is the label; an annotation where no entry has a
  ``class_id`` (the test split) is unlabelled. Other keys are ignored.
- ``list``, the MMPretrain / PaddleClas format: one ``relative/path.jpg <label>`` per line
  (the label is the last space- or tab-separated field; blank lines are skipped). A file
  where no line has a label is an unlabelled list of paths.

Both are parsed in pieces of :data:`CHUNK_BYTES`, so that the per-entry Python objects of one
piece at most exist at a time; labels and names go straight into numpy buffers. Every error
names the file and the entry (JSON index or list line) and says what was expected.
"""
import codecs
import os.path as osp
from typing import Tuple

import numpy as np

from .path_index import PathIndex

FORMATS = ('json', 'list')
#: Bytes of annotation parsed at a time; bounds the transient memory of parsing.
CHUNK_BYTES = 4 << 20


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
    # imported here: both parsers import CHUNK_BYTES and parse_decimal from this module
    from .json_annotation import parse_json
    from .list_annotation import parse_list
    if fmt not in ('auto', ) + FORMATS:
        raise ValueError(f'ann_format must be one of {("auto", ) + FORMATS}, got {fmt!r}')
    if not osp.isfile(path):
        raise FileNotFoundError(f'annotation file {path!r} not found')
    if fmt == 'auto':
        with open(path, 'rb') as f:
            fmt = detect_format(path, f.read(64))
    parse = parse_json if fmt == 'json' else parse_list
    if cache:
        from .index_cache import cached
        return cached(path, fmt, num_classes, parse)[0], fmt
    return parse(path, num_classes), fmt


def read_bytes(path: str) -> bytes:
    """The whole file (the parsers own the only reference, so they can free it early)."""
    with open(path, 'rb') as f:
        return f.read()


def parse_decimal(buf: np.ndarray, starts: np.ndarray,
                  ends: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Parse the unsigned decimals ``buf[starts[i]:ends[i]]``, one numpy pass per digit column.

    Returns:
        tuple[np.ndarray, np.ndarray]: int64 values and a bool mask of well-formed fields
        (1 to 18 ASCII digits).
    """
    lengths = ends - starts
    n = len(starts)
    if n and lengths[0] == lengths[-1] and 1 <= lengths[0] <= 18 and \
            starts[-1] - starts[0] == (n - 1) * (lengths[0] + 1) and \
            np.all(lengths == lengths[0]) and np.all(np.diff(starts) == lengths[0] + 1):
        # Fixed-width fields one separator apart (JSON class ids): a reshaped view.
        width = int(lengths[0])
        digits = buf[starts[0]:starts[0] + n * (width + 1)].reshape(n, width + 1)[:, :width]
        digits = digits - np.uint8(48)
        values = np.zeros(n, dtype=np.int64)
        for j in range(width):
            values *= 10
            values += digits[:, j]
        return values, np.all(digits <= 9, axis=1)
    ok = (lengths >= 1) & (lengths <= 18)
    width = int(lengths[ok].max()) if ok.any() else 0
    values = np.zeros(n, dtype=np.int64)
    for k in range(width):  # the k-th digit from the right
        inside = ok & (lengths > k)
        digit = buf[ends - 1 - k] - np.uint8(48)
        ok &= ~inside | (digit <= 9)
        digit[~inside] = 0
        values += digit * np.int64(10**k)
    return values, ok
