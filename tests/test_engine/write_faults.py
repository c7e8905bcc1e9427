"""Faults injected into file writes for the engine tests (pytest puts this folder on sys.path)."""
import os
from typing import Optional


class Crash(Exception):
    """The simulated death of a writer (a kill, a full disk)."""


def crash_mid_write(monkeypatch, message: str, keep_div: int = 2,
                    binary_open: Optional[int] = None) -> None:
    """Make ``os.fdopen``'s files write ``1 / keep_div`` of their data, then raise :class:`Crash`.

    Args:
        monkeypatch: pytest's fixture; ``monkeypatch.undo()`` ends the fault.
        message (str): The message of the :class:`Crash`.
        keep_div (int): The partial write keeps ``len(data) // keep_div`` bytes. Defaults to 2.
        binary_open (int, optional): Fault only the ``binary_open``-th file opened in binary
            mode (1-based), leaving every other file alone. Defaults to None (every file).
    """
    real_fdopen, binary = os.fdopen, []

    def fdopen(fd, mode='r', *args, **kwargs):
        f = real_fdopen(fd, mode, *args, **kwargs)
        if binary_open is not None:
            if 'b' not in mode:
                return f
            binary.append(fd)
            if len(binary) != binary_open:
                return f
        real_write = f.write

        def write(data):
            real_write(data[:len(data) // keep_div])
            raise Crash(message)
        f.write = write
        return f

    monkeypatch.setattr(os, 'fdopen', fdopen)
