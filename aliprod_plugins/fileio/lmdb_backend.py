"""``PackLmdbBackend``: MMEngine's ``LmdbBackend`` made fork-safe and keyed by relative path.

Registered in MMEngine's fileio as ``'aliprod_lmdb'``, so any loading transform that reads
through ``mmengine.fileio.get(path, backend_args)`` (``LoadImageScaled``,
``LoadImageFromFile``) reads a pack with::

    backend_args=dict(backend='aliprod_lmdb', db_path='data/aliproducts/packs/train',
                      root='data/aliproducts/train')

``AliProductsDataset(lmdb=...)`` sets this on its pipeline's loader. What it adds to the
stock backend:

- **Fork and rank safe.** The environment is opened lazily, read-only, without LMDB's lock
  file (``lock=False``: readers need no reader table as nothing writes a finished pack), once
  per process: a DataLoader worker forked from a process that already read the pack opens its
  own environment instead of using the parent's (LMDB forbids sharing one across ``fork``).
  Any number of workers and ranks read one pack.
- **Keys are paths relative to** ``root`` (the dataset's image prefix), UTF-8 encoded with
  ``surrogateescape`` like the dataset's names, so the pack does not depend on where the
  images were and non-ASCII names work (the stock backend encodes keys as ASCII).
- **Clear errors**: a key that is not in the pack, or an image recorded as bad when packing,
  raises ``OSError`` naming the pack and the reason, which ``LoadImageScaled`` turns into an
  ``ImageLoadError`` for the dataset's ``on_error`` policy (the stock backend returns None).
"""
import os
import os.path as osp
from pathlib import Path
from typing import Dict, Optional, Tuple, Union

from mmengine.fileio import LmdbBackend, register_backend

from .pack_meta import read_meta

#: One environment per pack and process: ``{realpath: (pid, lmdb.Environment)}``.
_ENVS: Dict[str, Tuple[int, object]] = {}


def pack_key(relative_path: str) -> bytes:
    """The LMDB key of an image: its path relative to the image prefix, as bytes."""
    return relative_path.encode('utf-8', 'surrogateescape')


def open_env(db_path: str, **kwargs):
    """This process's read-only, lock-free environment of the pack at ``db_path``."""
    import lmdb
    real = osp.realpath(db_path)
    pid = os.getpid()
    cached = _ENVS.get(real)
    if cached is not None and cached[0] == pid:
        return cached[1]
    if not osp.isfile(osp.join(real, 'data.mdb')):
        raise FileNotFoundError(f'LMDB pack {db_path!r} not found (no data.mdb in it); create '
                                f'it with tools/pack_lmdb.py')
    if cached is not None:
        # inherited through fork: never used here, only closed (this process's copies of the
        # mapping and descriptors; the parent's stay open), as py-lmdb allows one environment
        # per file and process
        cached[1].close()
    env = lmdb.open(real, readonly=True, lock=False, readahead=False, subdir=True, **kwargs)
    _ENVS[real] = (pid, env)
    return env


@register_backend('aliprod_lmdb', force=True)
class PackLmdbBackend(LmdbBackend):
    """Read images from an LMDB pack written by ``tools/pack_lmdb.py``.

    Args:
        db_path (str): The pack folder (holding ``data.mdb`` and ``aliprod_pack.json``).
        root (str, optional): Prefix removed from every path to form its key (the dataset's
            image prefix). Defaults to None (the path is the key).
        **kwargs: Further arguments of ``lmdb.open``. ``readonly=True``, ``lock=False`` and
            ``readahead=False`` are fixed.
    """

    def __init__(self, db_path: Union[str, Path], root: Optional[str] = None, **kwargs) -> None:
        for fixed in ('readonly', 'lock', 'readahead'):
            if fixed in kwargs:
                raise ValueError(f'PackLmdbBackend: {fixed} is fixed (readonly=True, lock=False, '
                                 f'readahead=False), got {fixed}={kwargs[fixed]!r}')
        super().__init__(db_path, readonly=True, lock=False, readahead=False, **kwargs)
        self.root = None if root in (None, '') else str(root)
        self._bad: Optional[dict] = None
        self._env, self._pid = None, None

    def key(self, filepath: Union[str, Path]) -> bytes:
        """The key of ``filepath``: its path relative to ``root``."""
        path = str(filepath)
        if self.root is not None:
            prefix = self.root if self.root.endswith('/') else self.root + '/'
            if not path.startswith(prefix):
                raise OSError(f'{path!r} is not under {self.root!r}, the image prefix of the '
                              f'LMDB pack {self.db_path!r}')
            path = path[len(prefix):]
        return pack_key(path)

    def get(self, filepath: Union[str, Path]) -> bytes:
        """The stored bytes of ``filepath``.

        Raises:
            OSError: The key is not in the pack, or the image was recorded as bad when
                packing (with the reason).
        """
        key = self.key(filepath)
        if self._pid != os.getpid():  # first read in this process (e.g. a forked worker)
            self._env, self._pid = open_env(self.db_path, **self.kwargs), os.getpid()
        with self._env.begin(write=False) as txn:
            value = txn.get(key)
        if value is None:
            raise OSError(f'{key.decode("utf-8", "surrogateescape")!r} is not in the LMDB pack '
                          f'{self.db_path!r}')
        if not value:
            raise OSError(f'recorded as unreadable when the LMDB pack {self.db_path!r} was '
                          f'written: {self._bad_reason(key)}')
        return value

    def _bad_reason(self, key: bytes) -> str:
        if self._bad is None:
            meta = read_meta(self.db_path) or {}
            self._bad = meta.get('bad_images', {})
        return self._bad.get(key.decode('utf-8', 'surrogateescape'), 'no reason recorded')

    def _get_client(self):
        return open_env(self.db_path, **self.kwargs)

    def __del__(self) -> None:
        pass  # environments are shared per process in _ENVS, never closed by one backend
