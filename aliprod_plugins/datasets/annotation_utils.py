"""Helpers shared by the annotation parsers (:mod:`.json_annotation`, :mod:`.list_annotation`).

They sit below both parsers and below the dispatcher :mod:`.annotations`, so that the imports
run one way: ``annotations`` -> ``json_annotation`` / ``list_annotation`` -> this module.
"""
from typing import Tuple

import numpy as np

#: Bytes of annotation parsed at a time; bounds the transient memory of parsing.
CHUNK_BYTES = 4 << 20


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
