"""The AliProducts JSON schema, decoded by msgspec one piece of the ``images`` array at a time.

A first msgspec pass validates the whole document and returns the ``images`` array as a
zero-copy ``Raw`` span. That span is cut after an entry's closing ``}`` (followed by a comma)
about every :data:`CHUNK_BYTES`; each piece is decoded as an array of slotted structs whose
ids are joined straight into NUL-separated buffers. A cut inside a string or a nested value
would leave its piece unbalanced and undecodable, so any decoding failure falls back to
decoding the whole document, which also yields the error message with its position.
"""
import re
from operator import attrgetter
from typing import Iterable, List, Optional, Tuple

import msgspec
import numpy as np

from .annotation_utils import CHUNK_BYTES, parse_decimal, read_bytes
from .path_index import ENCODING_ERRORS, PathIndex

EXAMPLE = '{"images": [{"class_id": "00000", "image_id": "1849756.jpg"}, ...]}'
_SPACE = b' \t\r\n'


class _Entry(msgspec.Struct, gc=False):
    image_id: str
    class_id: str = ''  # '' marks an entry without a class id


class _Annotation(msgspec.Struct, gc=False):
    images: List[_Entry]


class _Outline(msgspec.Struct, gc=False):
    images: msgspec.Raw


_WHOLE = msgspec.json.Decoder(_Annotation)
_OUTLINE = msgspec.json.Decoder(_Outline)
_ENTRIES = msgspec.json.Decoder(List[_Entry])


def parse_json(path: str, num_classes: int) -> PathIndex:
    """Parse ``{"images": [{"class_id": "00000", "image_id": "1.jpg"}, ...]}`` in ``path``."""
    data = read_bytes(path)
    joined = _decode_in_pieces(path, data)
    if joined is None:
        joined = _decode_whole(path, data)
    del data
    return _build_index(path, *joined, num_classes)


def _pieces(data: bytes) -> Optional[List[Tuple[int, int]]]:
    """Byte ranges of ``data``, each a comma-separated run of whole ``images`` entries."""
    try:
        raw = _OUTLINE.decode(data).images
    except msgspec.DecodeError:
        return None
    view = np.frombuffer(raw, dtype=np.uint8)
    start = view.ctypes.data - np.frombuffer(data, dtype=np.uint8).ctypes.data
    if len(view) < 2 or view[0] != ord('[') or not 0 <= start <= len(data) - len(view):
        return None  # not an array (the whole decode says so), or not zero-copy
    pos, end = start + 1, start + len(view) - 1
    pieces = []
    while pos + CHUNK_BYTES < end:
        cut = data.find(b'}', pos + CHUNK_BYTES, end)
        while cut != -1:
            comma = cut + 1
            while comma < end and data[comma] in _SPACE:
                comma += 1
            if comma < end and data[comma] == ord(','):
                break
            cut = data.find(b'}', cut + 1, end)
        if cut == -1:
            break
        pieces.append((pos, cut + 1))
        pos = comma + 1
    pieces.append((pos, end))
    return pieces


def _decode_in_pieces(path: str, data: bytes) -> Optional[Tuple[bytes, bytes, int]]:
    pieces = _pieces(data)
    if pieces is None:
        return None
    names, cids, n = [], [], 0
    for a, b in pieces:
        try:
            images = _ENTRIES.decode(b'[' + data[a:b] + b']')
        except msgspec.DecodeError:
            return None
        joined = _join_entries(path, images, n)
        names.append(joined[0])
        cids.append(joined[1])
        n += len(images)
    return b''.join(names), b''.join(cids), n


def _decode_whole(path: str, data: bytes) -> Tuple[bytes, bytes, int]:
    try:
        images = _WHOLE.decode(data).images
    except msgspec.DecodeError as err:  # ValidationError is a subclass
        raise _json_error(path, data, err) from None
    return (*_join_entries(path, images, 0), len(images))


def _join(strings: Iterable[str], path: str) -> bytes:
    try:
        return ('\0'.join(strings) + '\0').encode('utf-8', ENCODING_ERRORS)
    except UnicodeEncodeError as err:
        raise ValueError(f'{path}: an image_id or class_id is not valid unicode: {err}') from None


def _join_entries(path: str, images: List[_Entry], first: int) -> Tuple[bytes, bytes]:
    """NUL-terminated image ids and class ids of ``images`` (entries ``first``, ...)."""
    if not images:
        return b'', b''
    names = _join(map(attrgetter('image_id'), images), path)
    cids = _join(map(attrgetter('class_id'), images), path)
    if names.count(0) != len(images) or cids.count(0) != len(images):
        i = next(i for i, e in enumerate(images) if '\0' in e.image_id + e.class_id)
        raise ValueError(f"{path}: entry {first + i} of 'images' ({images[i].image_id!r}) "
                         f'contains a NUL character; expected {EXAMPLE}')
    return names, cids


def _json_error(path: str, data: bytes, err: msgspec.DecodeError) -> ValueError:
    msg = str(err)
    if isinstance(err, msgspec.ValidationError):
        at = re.search(r'\$\.images\[(\d+)\]', msg)
        where = f" (entry {at.group(1)} of 'images')" if at else ''
        return ValueError(f'{path}: {msg}{where}; expected {EXAMPLE}')
    byte = re.search(r'\(byte (\d+)\)', msg)
    pos = int(byte.group(1)) if byte else len(data)
    line = data.count(b'\n', 0, pos) + 1
    column = pos - data.rfind(b'\n', 0, pos)
    return ValueError(f'{path}: malformed JSON at line {line}, column {column} (byte {pos}): '
                      f'{msg}; expected {EXAMPLE}')


def _build_index(path: str, names: bytes, cids: bytes, n: int, num_classes: int) -> PathIndex:
    index = PathIndex.from_joined(names)
    cbuf = np.frombuffer(cids, dtype=np.uint8)
    ends = np.flatnonzero(cbuf == 0)
    starts = np.concatenate([[0], ends[:-1] + 1]).astype(np.int64)

    def entry(i: int) -> str:
        cid = cbuf[starts[i]:ends[i]].tobytes().decode('utf-8', ENCODING_ERRORS)
        text = f'"class_id": {cid!r}, ' if cid else ''
        return f"entry {i} of 'images' ({{{text}\"image_id\": {index.name(i)!r}}})"

    bad = np.flatnonzero(index.name_lengths() == 0)
    if len(bad):
        raise ValueError(f'{path}: {entry(int(bad[0]))} has an empty image_id; expected '
                         f'a file name, as in {EXAMPLE}')
    missing = ends == starts
    if n == 0 or missing.all():
        return index  # no class ids at all: an unlabelled split (test.json)
    if missing.any():
        raise ValueError(f"{path}: {entry(int(np.argmax(missing)))} has no 'class_id' while "
                         f'other entries have one; expected {EXAMPLE}')
    labels, ok = parse_decimal(cbuf, starts, ends)
    ok &= labels < num_classes
    if not ok.all():
        raise ValueError(f'{path}: {entry(int(np.argmin(ok)))} has a class_id that is not a '
                         f'number in [0, {num_classes}) (num_classes={num_classes})')
    return PathIndex(index.names, index.offsets, labels, class_folders=True)
