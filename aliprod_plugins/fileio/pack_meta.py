"""The metadata of an LMDB pack: one JSON file beside LMDB's ``data.mdb``, never pickle.

``<pack>/aliprod_pack.json`` holds what the pack was made from and how, so that a dataset can
refuse a pack that does not match it and a second ``tools/pack_lmdb.py`` run can complete it::

    {"format": "aliprod-lmdb-pack", "format_version": 1, "tool_version": "0.1.0",
     "complete": true,
     "dataset": {"type": ..., "split": "train", "ann_file": "train.json", "ann_digest": sha256,
                 "num_classes": 50030, "max_per_class": 250, "cap_seed": 0,
                 "index_digest": sha256 of the packed keys in order, "num_images": n},
     "encoding": {"short_side": 176, "quality": 90, "subsampling": "420"},
     "bad_images": {"<key>": "<reason>", ...},
     "stats": {"source_bytes": ..., "pack_bytes": ...}}

A bad image is stored under its key with an empty value and its reason listed here, so that
training's ``on_error`` policy decides what happens, as it does for a bad file.
"""
import hashlib
import json
import os.path as osp
from typing import Any, Dict, List, Optional

import numpy as np

from aliprod_plugins.engine.atomic_io import atomic_write_text

META_NAME = 'aliprod_pack.json'
FORMAT = 'aliprod-lmdb-pack'
FORMAT_VERSION = 1


def file_digest(path: str) -> str:
    """SHA-256 of a file's content (hex)."""
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 24), b''):
            digest.update(block)
    return digest.hexdigest()


def index_digest(index: Any) -> str:
    """SHA-256 of the keys of a :class:`PathIndex`, in order (names, and labels when the
    relative path is ``<label:05d>/<name>``)."""
    digest = hashlib.sha256(b'aliprod-pack-keys-v1:%d:' % int(index.class_folders))
    digest.update(np.ascontiguousarray(index.names).tobytes())
    if index.class_folders:
        digest.update(np.ascontiguousarray(index.labels, dtype='<i8').tobytes())
    return digest.hexdigest()


def read_meta(pack_dir: str) -> Optional[Dict[str, Any]]:
    """The pack's metadata, or None when ``pack_dir`` holds no ``aliprod_pack.json``.

    Raises:
        ValueError: The file is not the JSON object this module writes.
    """
    path = osp.join(pack_dir, META_NAME)
    if not osp.isfile(path):
        return None
    try:
        with open(path, 'rb') as f:
            meta = json.loads(f.read())
    except ValueError as err:
        raise ValueError(f'{path}: expected the JSON metadata of an aliprod LMDB pack, got '
                         f'unreadable content ({err})') from err
    if not isinstance(meta, dict) or meta.get('format') != FORMAT:
        raise ValueError(f'{path}: expected "format": "{FORMAT}", got '
                         f'{meta.get("format") if isinstance(meta, dict) else type(meta)!r}')
    if meta.get('format_version') != FORMAT_VERSION:
        raise ValueError(f'{path}: expected format_version {FORMAT_VERSION}, got '
                         f'{meta.get("format_version")!r}; re-pack with this version of '
                         f'tools/pack_lmdb.py')
    return meta


def write_meta(pack_dir: str, meta: Dict[str, Any]) -> None:
    """Write the metadata atomically (temporary file in the pack folder, fsync, rename)."""
    atomic_write_text(osp.join(pack_dir, META_NAME), json.dumps(meta, indent=1, sort_keys=True))


def differences(pack: Dict[str, Any], wanted: Dict[str, Any], keys: List[str],
                wanted_name: str = 'dataset') -> List[str]:
    """``'<key>: pack X, <wanted_name> Y'`` for every key in ``keys`` whose values differ."""
    return [
        f'{key}: pack {pack.get(key)!r}, {wanted_name} {wanted.get(key)!r}' for key in keys
        if pack.get(key) != wanted.get(key)
    ]
