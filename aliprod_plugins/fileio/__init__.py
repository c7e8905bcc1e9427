"""Packed training data (pre-resized JPEGs in LMDB) read through MMEngine's fileio.

- :mod:`.lmdb_backend`: ``PackLmdbBackend``, the ``aliprod_lmdb`` file backend (lazy,
  read-only, fork and rank safe), ``pack_key``;
- :mod:`.pack_meta`: the pack's JSON metadata (``META_NAME``, ``read_meta``);
- :mod:`.packing`: the writer behind ``tools/pack_lmdb.py``.
"""
from .lmdb_backend import PackLmdbBackend, pack_key
from .pack_meta import META_NAME, read_meta

__all__ = ['META_NAME', 'PackLmdbBackend', 'pack_key', 'read_meta']
