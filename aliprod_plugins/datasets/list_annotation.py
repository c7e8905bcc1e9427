"""The MMPretrain / PaddleClas list format, ``relative/path.jpg <label>`` per line, in numpy.

The file is cut at newlines about every :data:`CHUNK_BYTES`; in each piece, line ends, the
last blank (the separator, as ``str.rsplit(' ', 1)`` after ``strip()``) and the label digits
are found with vectorised passes over the bytes, and the paths are kept by a byte mask.
"""
import codecs
from typing import List, Optional, Tuple

import numpy as np

from .annotation_utils import CHUNK_BYTES, parse_decimal, read_bytes
from .path_index import PathIndex

_SPACE = np.zeros(256, dtype=bool)
_SPACE[[9, 10, 11, 12, 13, 32]] = True
_BLANK = np.zeros(256, dtype=bool)
_BLANK[[9, 32]] = True
EXPECTED = '"<relative/path> <label>"'


def parse_list(path: str, num_classes: int) -> PathIndex:
    """Parse the ``relative/path.jpg <label>`` list ``path`` (without any label: unlabelled)."""
    data = read_bytes(path)
    pos = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    names: List[np.ndarray] = []
    labels: List[np.ndarray] = []
    line0, labelled, first_unlabelled = 0, None, None
    while pos < len(data):
        cut = data.find(b'\n', pos + CHUNK_BYTES)
        end = len(data) if cut == -1 else cut + 1
        piece, piece_labels, first_unlabelled = _parse_piece(path, data, pos, end, line0,
                                                             num_classes, first_unlabelled)
        if len(piece):
            names.append(piece)
            if piece_labels is not None:
                labels.append(piece_labels)
            labelled = (piece_labels is not None) if labelled is None else labelled
            if labelled != (piece_labels is not None):
                raise _no_label_error(path, data, first_unlabelled)
        line0 += data.count(b'\n', pos, end)
        pos = end
    del data
    if not names:
        return PathIndex.from_joined(b'')
    return PathIndex.from_joined(
        np.concatenate(names),
        np.concatenate(labels) if labelled else None)


def _no_label_error(path: str, data: bytes, line_no: int) -> ValueError:
    lines = data.split(b'\n', line_no)
    text = lines[line_no - 1].decode('utf-8', 'replace').strip()
    return ValueError(f'{path}, line {line_no}: expected {EXPECTED}, got {text!r} '
                      f'(other lines have a label)')


def _strip(buf: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> None:
    """Strip whitespace from both ends of every field in place, passing only over the fields
    that still have some."""
    for side, step in ((ends, -1), (starts, 1)):
        active = np.arange(len(starts))
        while len(active):
            s, e = starts[active], ends[active]
            at = e - 1 if step < 0 else s
            active = active[(e > s) & _SPACE[buf[np.maximum(at, 0)]]]
            side[active] += step


def _text(buf: np.ndarray, start: int, end: int) -> str:
    return buf[start:end].tobytes().decode('utf-8', 'replace')


def _parse_piece(
        path: str, data: bytes, pos: int, end: int, line0: int, num_classes: int,
        first_unlabelled: Optional[int]) -> Tuple[np.ndarray, Optional[np.ndarray], Optional[int]]:
    """Parse ``data[pos:end]`` (whole lines; its first line is line ``line0 + 1``).

    Returns:
        tuple: the NUL-terminated paths, the labels (None when no line has one) and the
        number of the first line without a label in the file so far (None when none).
    """
    buf = np.empty(end - pos + 1, dtype=np.uint8)  # own copy, ending in a newline
    buf[:-1] = np.frombuffer(data, dtype=np.uint8, count=end - pos, offset=pos)
    buf[-1] = ord('\n')
    ends = np.flatnonzero(buf == ord('\n'))
    starts = np.concatenate([[0], ends[:-1] + 1]).astype(np.int64)
    _strip(buf, starts, ends)
    line_no = np.flatnonzero(ends > starts)
    starts, ends = starts[line_no], ends[line_no]
    line_no += line0 + 1
    blanks = np.concatenate([[-1], np.flatnonzero(_BLANK[buf])])  # -1: no blank before
    sep = blanks[np.searchsorted(blanks, ends) - 1]
    has_sep = sep >= starts
    labels = None
    if first_unlabelled is None and not has_sep.all():
        first_unlabelled = int(line_no[np.argmin(has_sep)])
    if has_sep.any():
        if first_unlabelled is not None:  # here or in an earlier piece
            raise _no_label_error(path, data, first_unlabelled)
        labels, ok = parse_decimal(buf, sep + 1, ends)
        ok &= labels < num_classes
        if not ok.all():
            i = int(np.argmin(ok))
            raise ValueError(f'{path}, line {line_no[i]}: label {_text(buf, sep[i] + 1, ends[i])!r}'
                             f' is not a number in [0, {num_classes}) (num_classes={num_classes})'
                             f'; expected {EXPECTED}')
        ends = sep
        _strip(buf, starts, ends)
    nul = np.flatnonzero(buf == 0)
    if len(nul):
        i = min(int(np.searchsorted(ends, nul[0])), len(ends) - 1)
        raise ValueError(f'{path}, line {line_no[i]}: the path contains a NUL byte')
    buf[ends] = 0  # the byte after each path (a blank or newline) becomes its terminator
    bounds = np.empty(2 * len(starts) + 2, dtype=np.int64)
    bounds[0], bounds[-1] = 0, len(buf)
    bounds[1:-1:2], bounds[2:-1:2] = starts, ends + 1
    keep = np.zeros(len(bounds) - 1, dtype=bool)
    keep[1::2] = True
    return buf[np.repeat(keep, np.diff(bounds))], labels, first_unlabelled
