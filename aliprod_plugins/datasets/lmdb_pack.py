"""Using an LMDB pack from ``AliProductsDataset(lmdb=...)``: match it, bind the loader to it.

A pack (``tools/pack_lmdb.py``) records what it was made from (:mod:`aliprod_plugins.fileio.
pack_meta`). At start-up the dataset compares that with itself and refuses a pack made from
another annotation, split or cap, or one that lacks images, naming the pack and what differs.
The key check is instant in the usual case (the digest of the packed keys equals the digest of
the dataset's); otherwise the pack's keys are listed once and compared as 64-bit hashes.
Then the pipeline's loading transform is pointed at the pack through MMEngine's fileio
(``backend_args=dict(backend='aliprod_lmdb', ...)``).
"""
import os.path as osp
from typing import Any, Dict, List

import numpy as np
from mmengine.logging import MMLogger

from aliprod_plugins.fileio.lmdb_backend import open_env
from aliprod_plugins.fileio.pack_meta import (META_NAME, differences, file_digest, index_digest,
                                              read_meta)
from .path_index import PathIndex

#: Settings a pack must share with the dataset that reads it.
MATCH_KEYS = ['ann_digest', 'split', 'max_per_class', 'cap_seed']
#: Loading transforms that read through ``mmengine.fileio.get(path, backend_args)``.
LOADERS = ('LoadImageScaled', 'LoadImageFromFile')


def resolve_pack_dir(lmdb: str, data_root: str) -> str:
    """``lmdb`` if absolute, else ``data_root/lmdb``."""
    return lmdb if osp.isabs(lmdb) else osp.join(data_root or '', lmdb)


def dataset_record(dataset: Any) -> Dict[str, Any]:
    """What a pack of ``dataset`` records about it (the ``"dataset"`` block of the metadata).

    Args:
        dataset (AliProductsDataset): A fully initialised dataset.
    """
    index = dataset._index
    return dict(
        type=type(dataset).__name__,
        split=dataset.split,
        ann_file=osp.basename(dataset.ann_file),
        ann_digest=file_digest(dataset.ann_file),
        num_classes=dataset.num_classes,
        max_per_class=dataset.max_per_class,
        cap_seed=dataset.cap_seed,
        index_digest=index_digest(index),
        num_images=len(index))


def relative_paths(index: PathIndex) -> List[str]:
    """The keys of an index: every entry's path relative to the image prefix."""
    return [index.relative_path(i) for i in range(len(index))]


def check_pack(dataset: Any, pack_dir: str, check_keys: bool = True) -> Dict[str, Any]:
    """Refuse a pack that does not match ``dataset``; return its metadata when it does.

    Args:
        dataset (AliProductsDataset): The dataset, its index built.
        pack_dir (str): The pack folder.
        check_keys (bool): Also check that every image of the dataset is in the pack
            (instant when the digests of the keys agree). Defaults to True.

    Raises:
        FileNotFoundError: No pack at ``pack_dir``.
        ValueError: Not a finished aliprod pack, or made from other data (the message names
            the pack and every difference).
    """
    name = f'{type(dataset).__name__}(split={dataset.split!r}, ann_file={dataset.ann_file!r})'
    meta = read_meta(pack_dir) if osp.isdir(pack_dir) else None
    if meta is None:
        raise FileNotFoundError(
            f'LMDB pack {pack_dir!r} (lmdb option of {name}) not found: expected a folder '
            f'written by tools/pack_lmdb.py, holding data.mdb and {META_NAME}')
    packed = meta['dataset']
    if not meta.get('complete'):
        raise ValueError(f'LMDB pack {pack_dir!r} is incomplete (its packing run was '
                         f'interrupted); run tools/pack_lmdb.py again with the same arguments '
                         f'to complete it')
    wanted = dataset_record(dataset)
    diffs = differences(packed, wanted, MATCH_KEYS[1:])
    if packed.get('ann_digest') != wanted['ann_digest']:
        diffs.insert(0, f'another annotation (pack: {packed.get("ann_file")} sha256 '
                     f'{str(packed.get("ann_digest"))[:12]}..., dataset: {dataset.ann_file} '
                     f'sha256 {wanted["ann_digest"][:12]}...)')
    env = open_env(pack_dir)
    entries = env.stat()['entries']
    if check_keys and (packed.get('index_digest') != wanted['index_digest']
                       or entries != packed.get('num_images')):
        missing = _missing(env, dataset._index)
        if len(missing):
            first = ', '.join(repr(dataset._index.relative_path(int(i))) for i in missing[:3])
            diffs.append(f'{len(missing)} of {len(dataset._index)} images of the dataset are '
                         f'not in the pack (first: {first})')
    if diffs:
        raise ValueError(f'LMDB pack {pack_dir!r} does not match {name}: ' + '; '.join(diffs) +
                         f'. Pack this split again (tools/pack_lmdb.py CONFIG --split '
                         f'{dataset.split} --out DIR) or point lmdb= at its pack')
    bad = meta.get('bad_images', {})
    if bad:
        MMLogger.get_current_instance().warning(
            f'LMDB pack {pack_dir!r}: {len(bad)} images were recorded as unreadable when it was '
            f'written (see its {META_NAME}); on_error={dataset.on_error!r} decides what '
            f'happens when they are sampled')
    return meta


def _missing(env, index: PathIndex) -> np.ndarray:
    """Indices of the entries whose key is not in the pack (64-bit hash set difference)."""
    with env.begin(write=False, buffers=True) as txn:
        found = np.fromiter((hash(bytes(k)) for k in txn.cursor().iternext(values=False)),
                            dtype=np.int64)
    wanted = np.fromiter(
        (hash(k.encode('utf-8', 'surrogateescape')) for k in relative_paths(index)),
        dtype=np.int64, count=len(index))
    return np.flatnonzero(~np.isin(wanted, found))


def bind_loaders(pipeline: Any, pack_dir: str, img_prefix: str, where: str) -> List[Any]:
    """Point every loading transform of ``pipeline`` at the pack; return them.

    Raises:
        ValueError: The pipeline has no loader that reads through MMEngine's fileio, or one
            already has other ``backend_args``.
    """
    backend_args = dict(backend='aliprod_lmdb', db_path=osp.abspath(pack_dir),
                        root=img_prefix)
    loaders = [t for t in getattr(pipeline, 'transforms', []) if type(t).__name__ in LOADERS]
    if not loaders:
        found = [type(t).__name__ for t in getattr(pipeline, 'transforms', [])]
        raise ValueError(f'{where}: lmdb={pack_dir!r} reads images through the pipeline\'s '
                         f'loading transform, expected one of {LOADERS}, got {found}')
    for loader in loaders:
        if loader.backend_args not in (None, {}, backend_args):
            raise ValueError(f'{where}: lmdb={pack_dir!r} sets the backend_args of '
                             f'{type(loader).__name__}, which already has '
                             f'backend_args={loader.backend_args!r}; remove one of the two')
        loader.backend_args = backend_args
    return loaders


def use_pack(dataset: Any, lmdb: str, check_keys: bool = True) -> None:
    """Check the pack ``lmdb`` against ``dataset`` and point its pipeline's loader at it.

    Args:
        dataset (AliProductsDataset): The dataset, its index built.
        lmdb (str): The pack folder, absolute or relative to ``dataset.data_root``.
        check_keys (bool): Also check that the pack holds every image. Defaults to True.
    """
    pack_dir = resolve_pack_dir(lmdb, dataset.data_root)
    loaders = bind_loaders(dataset.pipeline, pack_dir, dataset.img_prefix,
                           type(dataset).__name__)
    meta = check_pack(dataset, pack_dir, check_keys=check_keys)
    warn_if_smaller(meta, loaders, pack_dir)


def warn_if_smaller(meta: Dict[str, Any], loaders: List[Any], pack_dir: str) -> None:
    """Warn once when the pack's images are smaller than a loader's ``min_size``."""
    short_side = meta.get('encoding', {}).get('short_side')
    for loader in loaders:
        min_size = getattr(loader, 'min_size', None)
        if short_side and min_size and short_side < min_size:
            MMLogger.get_current_instance().warning(
                f'LMDB pack {pack_dir!r} holds images with shorter side {short_side} px, '
                f'below min_size={min_size} of {type(loader).__name__}: the pipeline upsamples '
                f'them; pack with --short-side >= {min_size}')
