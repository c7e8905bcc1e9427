"""A compact, read-only index of relative image names and labels.

Two million Python dicts cost gigabytes and are copied page by page into every DataLoader
worker as their reference counts change. Here the whole split is three numpy arrays: one
bytes buffer holding every name followed by a ``b'\\0'``, the ``n + 1`` offsets into it, and
the labels. Workers share them untouched.
"""
from typing import List, Optional, Sequence, Union

import numpy as np

#: How names are turned into ``str``: bytes that are not UTF-8 (possible in a list file) round
#: trip to the same file name, as ``os.fsdecode`` does on POSIX.
ENCODING_ERRORS = 'surrogateescape'


class PathIndex:
    """Relative image names in one buffer, plus one int64 label per name.

    Args:
        names (np.ndarray): ``uint8`` buffer; entry ``i`` is
            ``names[offsets[i]:offsets[i + 1] - 1]`` followed by one ``0`` byte.
        offsets (np.ndarray): ``int64`` array of length ``n + 1``, ``offsets[0] == 0``.
        labels (np.ndarray, optional): ``int64`` labels of length ``n``. Defaults to None
            (unlabelled: all ``-1``).
        class_folders (bool): Whether the relative path of an entry is
            ``f'{label:05d}/{name}'`` (the AliProducts layout) rather than ``name`` itself.
            Defaults to False.
    """

    def __init__(self,
                 names: np.ndarray,
                 offsets: np.ndarray,
                 labels: Optional[np.ndarray] = None,
                 class_folders: bool = False) -> None:
        n = len(offsets) - 1
        self.names = names
        self.offsets = offsets.astype(np.int64, copy=False)
        self.has_labels = labels is not None
        self.labels = (
            labels.astype(np.int64, copy=False) if labels is not None else np.full(
                n, -1, dtype=np.int64))
        self.labels.flags.writeable = False
        self.class_folders = bool(class_folders and self.has_labels)

    @classmethod
    def from_joined(cls,
                    joined: Union[bytes, np.ndarray],
                    labels: Optional[np.ndarray] = None,
                    class_folders: bool = False) -> 'PathIndex':
        """Build from ``b'name0\\0name1\\0...nameN\\0'`` (every name followed by a NUL)."""
        names = joined if isinstance(joined, np.ndarray) else np.frombuffer(joined, np.uint8)
        ends = np.flatnonzero(names == 0)
        offsets = np.zeros(len(ends) + 1, dtype=np.int64)
        offsets[1:] = ends + 1
        return cls(names, offsets, labels, class_folders)

    def __len__(self) -> int:
        return len(self.offsets) - 1

    @property
    def nbytes(self) -> int:
        """Memory held by the arrays."""
        return self.names.nbytes + self.offsets.nbytes + self.labels.nbytes

    def name_lengths(self) -> np.ndarray:
        """Byte length of every name (without its NUL)."""
        return np.diff(self.offsets) - 1

    def name(self, idx: int) -> str:
        """Name of entry ``idx`` as stored (for the AliProducts layout: the ``image_id``)."""
        start, end = self.offsets[idx], self.offsets[idx + 1] - 1
        return self.names[start:end].tobytes().decode('utf-8', ENCODING_ERRORS)

    def relative_path(self, idx: int) -> str:
        """Path of entry ``idx`` relative to the image prefix."""
        name = self.name(idx)
        if self.class_folders:
            return f'{int(self.labels[idx]):05d}/{name}'
        return name

    def class_counts(self, num_classes: int) -> np.ndarray:
        """Entries per class: read-only int64 of length ``num_classes`` (zeros if unlabelled)."""
        counts = np.zeros(num_classes, dtype=np.int64)
        if self.has_labels:
            counts += np.bincount(self.labels, minlength=num_classes)
        counts.flags.writeable = False
        return counts

    def name_bytes_list(self) -> List[bytes]:
        """All names as a list of ``bytes`` (one C-level split, no Python loop)."""
        return self.names.tobytes().split(b'\0')[:-1]

    def take(self, indices: Union[np.ndarray, Sequence[int]]) -> 'PathIndex':
        """Return a compacted index holding only ``indices`` (in the given order).

        Args:
            indices (np.ndarray | Sequence[int]): Non-negative entry indices.

        Returns:
            PathIndex: A new index; its buffer holds only the selected names.
        """
        idx = np.asarray(indices, dtype=np.int64)
        lengths = np.diff(self.offsets)  # including the NUL
        offsets = np.zeros(len(idx) + 1, dtype=np.int64)
        np.cumsum(lengths[idx], out=offsets[1:])
        if len(idx) == 0:
            names = np.zeros(0, dtype=np.uint8)
        elif np.all(idx[1:] > idx[:-1]):
            # Increasing selection: a byte mask keeps the buffer order with O(bytes) work.
            keep = np.zeros(len(self), dtype=bool)
            keep[idx] = True
            names = self.names[np.repeat(keep, lengths)]
        else:
            shift = np.repeat(self.offsets[idx] - offsets[:-1], lengths[idx])
            names = self.names[shift + np.arange(offsets[-1], dtype=np.int64)]
        labels = self.labels[idx] if self.has_labels else None
        return PathIndex(names, offsets, labels, self.class_folders)


def resolve_indices(indices: Union[int, Sequence[int]], n: int) -> np.ndarray:
    """Entry indices from MMEngine's ``indices`` option, for an index of ``n`` entries.

    Args:
        indices (int | Sequence[int]): An int keeps the first (``k >= 0``) or the last
            (``k < 0``) ``|k|`` entries; a sequence lists them, negative ones counting from
            the end.
        n (int): Entries in the index.

    Returns:
        np.ndarray: Non-negative int64 indices.

    Raises:
        ValueError: A listed index outside ``[-n, n)``.
    """
    if isinstance(indices, (int, np.integer)):
        k = min(abs(int(indices)), n)
        return np.arange(n - k, n) if indices < 0 else np.arange(k)
    idx = np.asarray(indices, dtype=np.int64).reshape(-1)
    if len(idx) and (idx.min() < -n or idx.max() >= n):
        raise ValueError(f'indices must lie in [-{n}, {n}) for {n} samples, '
                         f'got values from {idx.min()} to {idx.max()}')
    return np.where(idx < 0, idx + n, idx)
