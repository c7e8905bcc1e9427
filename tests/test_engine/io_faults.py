"""Faults planted in file I/O for the atomic-write tests: a write killed half way, removals seen."""
import os
import os.path as osp
from typing import Callable, List

from aliprod_plugins.engine import atomic_io


class Crash(Exception):
    """A simulated kill in the middle of a write."""


def crash_binary_write(monkeypatch, nth: int = 1, divisor: int = 2) -> None:
    """Make the ``nth`` binary file :mod:`atomic_io` opens write ``1 / divisor`` of it, then crash.

    Args:
        monkeypatch: pytest's fixture (undone at the end of the test).
        nth (int): Which binary ``os.fdopen`` of ``atomic_io`` crashes (1-based). Defaults to 1.
        divisor (int): The crashing write keeps ``len(data) // divisor`` bytes. Defaults to 2.
    """
    real_fdopen, opened = os.fdopen, []

    def fdopen(fd, mode='r', *args, **kwargs):
        f = real_fdopen(fd, mode, *args, **kwargs)
        if 'b' in mode:
            opened.append(fd)
            if len(opened) == nth:
                real_write = f.write

                def write(data):
                    real_write(data[:len(data) // divisor])
                    raise Crash('killed mid-write')
                f.write = write
        return f

    monkeypatch.setattr(atomic_io.os, 'fdopen', fdopen)


def watch_removals(monkeypatch, prefix: str, check: Callable[[str], None]) -> List[str]:
    """Call ``check(name)`` just before each file named ``prefix*`` is removed; list them.

    Args:
        monkeypatch: pytest's fixture (undone at the end of the test).
        prefix (str): File names to watch.
        check (callable): Asserts what must hold at the moment of removal.

    Returns:
        list[str]: The removed names, filled in as they are removed.
    """
    removed, real_remove = [], os.remove

    def remove(path):
        name = osp.basename(path)
        if name.startswith(prefix):
            check(name)
            removed.append(name)
        real_remove(path)

    monkeypatch.setattr(os, 'remove', remove)
    return removed
