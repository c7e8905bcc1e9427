"""aliprod_plugins.fileio: packed training data (JPEGs in LMDB) read through MMEngine's fileio."""
from .lmdb_backend import PackLmdbBackend, pack_key
from .pack_meta import META_NAME, read_meta

__all__ = ['META_NAME', 'PackLmdbBackend', 'pack_key', 'read_meta']
