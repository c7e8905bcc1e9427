"""An optional on-disk cache of a parsed annotation, keyed on the annotation's content.

The cache is ``<ann_file>.aliprod-index.npz`` next to the annotation. It stores the index's
three arrays and a key made of a SHA-256 digest of the annotation bytes, the format, the
number of classes and :data:`CACHE_VERSION`; it is used only when the key matches, so an
edited annotation (or a different parser) is parsed again and the cache rewritten. Writes go
to a temporary file that is renamed into place, so concurrent ranks never read half a file.
A folder that cannot be written only costs the cache, with one warning.
"""
import hashlib
import os
import tempfile
from typing import Callable, Optional, Tuple

import numpy as np
from mmengine.logging import MMLogger

from .path_index import PathIndex

#: Bump when parsing changes what an annotation yields.
CACHE_VERSION = 1
SUFFIX = '.aliprod-index.npz'


def content_key(path: str, fmt: str, num_classes: int) -> str:
    """The cache key of an annotation file: its content digest plus what parsing depends on."""
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 24), b''):
            digest.update(block)
    return f'{digest.hexdigest()}:{fmt}:{num_classes}:v{CACHE_VERSION}'


def load_cached(path: str, key: str) -> Optional[PathIndex]:
    """The cached index of ``path`` if its key matches ``key``, else None."""
    try:
        with np.load(path + SUFFIX, allow_pickle=False) as z:
            if str(z['key']) != key:
                return None
            labels = z['labels'] if bool(z['has_labels']) else None
            return PathIndex(z['names'], z['offsets'], labels, bool(z['class_folders']))
    except (OSError, KeyError, ValueError):
        return None


def save_cached(path: str, key: str, index: PathIndex) -> None:
    """Write the cache atomically; warn once and carry on when the folder is read-only."""
    folder = os.path.dirname(os.path.abspath(path))
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix='.aliprod-index-', suffix='.npz', dir=folder)
        with os.fdopen(fd, 'wb') as f:
            np.savez(
                f,
                key=np.array(key),
                names=index.names,
                offsets=index.offsets,
                labels=index.labels,
                has_labels=np.array(index.has_labels),
                class_folders=np.array(index.class_folders))
        os.replace(tmp, path + SUFFIX)
    except OSError as err:
        if tmp is not None and os.path.exists(tmp):
            os.remove(tmp)
        MMLogger.get_current_instance().warning(
            f'cannot write the annotation cache {path + SUFFIX!r} ({err}); parsing it at '
            f'every start instead')


def cached(path: str, fmt: str, num_classes: int,
           parse: Callable[[str, int], PathIndex]) -> Tuple[PathIndex, bool]:
    """Return ``(index, hit)``: the cached index when valid, else ``parse`` it and cache it."""
    key = content_key(path, fmt, num_classes)
    index = load_cached(path, key)
    if index is not None:
        return index, True
    index = parse(path, num_classes)
    save_cached(path, key, index)
    return index, False
