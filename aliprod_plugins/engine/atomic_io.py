"""Write files that a later run reads so that a crash never leaves half a file behind.

Every write goes to a temporary file in the destination's folder, is flushed and fsynced, and
is then moved over the destination with :func:`os.replace` (atomic on POSIX within one
filesystem); the folder is fsynced so that the rename itself survives a power loss. A reader
therefore sees either the old file or the new one, never a truncated mix. On any error the
temporary file is removed and the destination is left as it was.

MMEngine's ``LocalBackend.put`` opens the destination with ``'wb'`` and writes into it;
:class:`AtomicLocalBackend` is the same backend with atomic ``put`` / ``put_text``, registered
as ``backend='atomic_local'`` so that ``save_checkpoint(..., backend_args=...)`` uses it.
"""
import os
import os.path as osp
import tempfile
from pathlib import Path
from typing import Union

from mmengine.fileio import LocalBackend, register_backend

PathLike = Union[str, Path]


def fsync_dir(path: PathLike) -> None:
    """Flush a folder's entries (new, renamed or removed files) to disk.

    Args:
        path (str | Path): The folder. Filesystems or platforms that cannot open a folder
            (Windows) are skipped silently: there the rename is as durable as it gets.
    """
    try:
        fd = os.open(os.fspath(path), os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:  # some filesystems refuse fsync on a folder; the data itself is synced
        pass
    finally:
        os.close(fd)


def atomic_write_bytes(path: PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (temporary file, fsync, ``os.replace``).

    The parent folder is created when missing. A file already at ``path`` is replaced only
    once the new content is completely on disk.

    Args:
        path (str | Path): Destination file.
        data (bytes): Content to write.
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f'atomic_write_bytes expects bytes, got {type(data).__name__}')
    path = osp.abspath(os.fspath(path))
    folder = osp.dirname(path)
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f'.{osp.basename(path)}.', suffix='.tmp')
    try:
        with os.fdopen(fd, 'wb') as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        # mkstemp creates the file 0600; give it the permissions a plain open() would
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    fsync_dir(folder)


def atomic_write_text(path: PathLike, text: str, encoding: str = 'utf-8') -> None:
    """Write ``text`` to ``path`` atomically; see :func:`atomic_write_bytes`.

    Args:
        path (str | Path): Destination file.
        text (str): Content to write.
        encoding (str): Text encoding. Defaults to ``'utf-8'``.
    """
    atomic_write_bytes(path, text.encode(encoding))


@register_backend('atomic_local', force=True)
class AtomicLocalBackend(LocalBackend):
    """MMEngine's local file backend whose writes are atomic.

    Use it wherever MMEngine takes ``backend_args``, e.g.
    ``CheckpointHook(backend_args=dict(backend='atomic_local'))``.
    """

    def put(self, obj: bytes, filepath: PathLike) -> None:
        """Write bytes to ``filepath`` atomically (the folder is created when missing)."""
        atomic_write_bytes(filepath, obj)

    def put_text(self, obj: str, filepath: PathLike, encoding: str = 'utf-8') -> None:
        """Write text to ``filepath`` atomically (the folder is created when missing)."""
        atomic_write_text(filepath, obj, encoding=encoding)
