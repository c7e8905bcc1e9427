"""Write images into an LMDB pack: shrink to a shorter side of ``S``, re-encode as JPEG.

Each image is decoded with our loader's decoder (:func:`decode_image`: any mode, EXIF
orientation applied) at full size, shrunk with ``cv2.INTER_AREA`` so that its shorter side is
``S`` (never enlarged), and re-encoded by libjpeg-turbo (``simplejpeg``) at quality ``Q`` with
4:2:0 chroma subsampling, the layout of ordinary catalogue JPEGs. A DCT-reduced decode would
pack faster, but its rounded sides shift the result by a fraction of a pixel against a plain
resize (a mean absolute difference of ~3 grey levels on detailed photos); packing is done
once, so it decodes fully and the only loss is the JPEG re-encode.

Worker processes decode and encode; the main process is the only LMDB writer and commits every
:data:`COMMIT_EVERY` images, so an interrupted run keeps what it committed and a second run
completes it. A bad image is stored with an empty value and its reason goes to the metadata
(see :mod:`.pack_meta`).
"""
import multiprocessing
import os
import os.path as osp
import time
from typing import Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np
import simplejpeg

from aliprod_plugins.progress import Progress
from aliprod_plugins.transforms.decode import decode_image
from .lmdb_backend import pack_key

#: Images written per LMDB transaction (and per progress update).
COMMIT_EVERY = 512
#: Address space reserved for the pack; the file only grows as data is written.
MAP_SIZE = 1 << 40
SUBSAMPLING = '420'


def shrink_encode(data: bytes, short_side: int, quality: int, path: str = '<bytes>') -> bytes:
    """Decode ``data``, shrink its shorter side to ``short_side`` and re-encode it as JPEG.

    Args:
        data (bytes): The source file's content (any format the loader reads).
        short_side (int): Shorter side of the result; smaller images keep their size.
        quality (int): JPEG quality, 1-100.
        path (str): Used in error messages only.

    Returns:
        bytes: The JPEG.

    Raises:
        ImageLoadError: The source cannot be decoded.
    """
    img = decode_image(data, channel_order='rgb', path=path)[0]
    height, width = img.shape[:2]
    short = min(height, width)
    if short > short_side:
        scale = short_side / short
        size = ((short_side, max(1, round(height * scale))) if width <= height else
                (max(1, round(width * scale)), short_side))  # cv2 sizes are (width, height)
        img = cv2.resize(img, size, interpolation=cv2.INTER_AREA)
    return simplejpeg.encode_jpeg(
        np.ascontiguousarray(img), quality=quality, colorspace='RGB', colorsubsampling=SUBSAMPLING)


def _init_worker() -> None:
    cv2.setNumThreads(0)  # one process per core already


def _pack_one(task: Tuple[str, int, int]) -> Tuple[Optional[bytes], str, int]:
    """``(jpeg or None, reason, source bytes)`` for one source path."""
    path, short_side, quality = task
    try:
        with open(path, 'rb') as f:
            data = f.read()
    except OSError as err:
        return None, f'cannot read file: {type(err).__name__}: {err}', 0
    try:
        return shrink_encode(data, short_side, quality, path), '', len(data)
    except Exception as err:  # a bad image is recorded, never fatal
        reason = getattr(err, 'reason', None) or f'{type(err).__name__}: {err}'
        return None, reason, len(data)


def existing_keys(env) -> set:
    """Keys already written with a non-empty value (bad images are retried)."""
    with env.begin(write=False, buffers=True) as txn:  # buffers: values are not copied
        return {bytes(k) for k, v in txn.cursor() if len(v)}


def write_images(env, paths: Sequence[str], keys: Sequence[str], short_side: int, quality: int,
                 workers: int, progress: bool = True) -> Dict[str, object]:
    """Shrink, encode and write ``paths[i]`` under ``keys[i]``; skip keys already written.

    Args:
        env (lmdb.Environment): The pack, open for writing.
        paths (Sequence[str]): Source files.
        keys (Sequence[str]): Their keys (paths relative to the image prefix).
        short_side (int): See :func:`shrink_encode`.
        quality (int): See :func:`shrink_encode`.
        workers (int): Processes decoding and encoding (1: in this process).
        progress (bool): Show a progress bar with rate and ETA. Defaults to True.

    Returns:
        dict: ``written``, ``skipped`` (already in the pack), ``bad`` (``{key: reason}``),
        ``source_bytes`` and ``seconds``.
    """
    done = existing_keys(env)
    todo = [i for i, key in enumerate(keys) if pack_key(key) not in done]
    start = time.perf_counter()
    bad: Dict[str, str] = {}
    source_bytes = 0
    bar = Progress(len(todo), 'images') if progress and todo else None
    tasks = ((paths[i], short_side, quality) for i in todo)
    pool = None
    if workers > 1 and len(todo) > 1:
        pool = multiprocessing.get_context('fork').Pool(workers, initializer=_init_worker)
        results = pool.imap(_pack_one, tasks, chunksize=8)
    else:
        results = map(_pack_one, tasks)
    try:
        batch: List[Tuple[bytes, bytes]] = []
        for i, (jpeg, reason, nbytes) in zip(todo, results):
            source_bytes += nbytes
            if jpeg is None:
                bad[keys[i]] = reason
            batch.append((pack_key(keys[i]), jpeg or b''))
            if len(batch) == COMMIT_EVERY:
                _commit(env, batch, bar)
        _commit(env, batch, bar)
    finally:
        if pool is not None:
            pool.terminate()
            pool.join()
    if bar is not None:
        bar.close()
    return dict(written=len(todo) - len(bad), skipped=len(keys) - len(todo), bad=bad,
                source_bytes=source_bytes, seconds=time.perf_counter() - start)


def _commit(env, batch: List[Tuple[bytes, bytes]], bar: Optional[Progress]) -> None:
    if not batch:
        return
    with env.begin(write=True) as txn:
        for key, value in batch:
            txn.put(key, value)
    if bar is not None:
        bar.update(len(batch))
    batch.clear()


def pack_bytes(pack_dir: str) -> int:
    """Bytes the pack takes on disk (its ``data.mdb``)."""
    path = osp.join(pack_dir, 'data.mdb')
    return os.stat(path).st_blocks * 512 if osp.exists(path) else 0
