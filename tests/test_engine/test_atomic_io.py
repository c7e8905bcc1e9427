"""Atomic writes: the destination holds the old or the new content, never a mix."""
import os
import os.path as osp

import pytest
from mmengine.fileio import get_file_backend
from write_faults import Crash, crash_mid_write

from aliprod_plugins.engine import atomic_io
from aliprod_plugins.engine.atomic_io import atomic_write_bytes, atomic_write_text


def test_write_creates_replaces_and_leaves_no_temporary_file(tmp_path):
    path = tmp_path / 'sub' / 'file.bin'
    atomic_write_bytes(path, b'first')
    assert path.read_bytes() == b'first'
    atomic_write_text(str(path), 'second é')
    assert path.read_text(encoding='utf-8') == 'second é'
    assert os.listdir(tmp_path / 'sub') == ['file.bin']
    assert oct(path.stat().st_mode & 0o777) == oct(0o666 & ~_umask())


def test_write_interrupted_mid_file_keeps_the_old_content(tmp_path, monkeypatch):
    path = tmp_path / 'ckpt.pth'
    path.write_bytes(b'old checkpoint')
    crash_mid_write(monkeypatch, 'disk full')
    with pytest.raises(Crash):
        atomic_write_bytes(path, b'new checkpoint, much longer than the old one')
    assert path.read_bytes() == b'old checkpoint'
    assert os.listdir(tmp_path) == ['ckpt.pth']  # the partial temporary file is gone


def test_data_is_fsynced_before_the_rename_and_the_folder_after(tmp_path, monkeypatch):
    events = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd):
        target = os.readlink(f'/proc/self/fd/{fd}') if osp.exists('/proc/self/fd') else '?'
        events.append(('fsync', osp.basename(target)))
        real_fsync(fd)

    def replace(src, dst):
        events.append(('replace', osp.basename(dst)))
        real_replace(src, dst)

    monkeypatch.setattr(atomic_io.os, 'fsync', fsync)
    monkeypatch.setattr(atomic_io.os, 'replace', replace)
    atomic_write_bytes(tmp_path / 'a.pth', b'x')
    kinds = [e[0] for e in events]
    assert kinds == ['fsync', 'replace', 'fsync']
    assert events[0][1].startswith('.a.pth.') and events[0][1].endswith('.tmp')
    assert events[2][1] == tmp_path.name  # the folder


def test_atomic_local_backend_is_what_backend_args_select(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(atomic_io, 'atomic_write_bytes',
                        lambda path, data: calls.append((str(path), data)))
    backend = get_file_backend(str(tmp_path), backend_args=dict(backend='atomic_local'))
    backend.put(b'abc', str(tmp_path / 'epoch_1.pth'))
    backend.put_text('xyz', str(tmp_path / 'last_checkpoint'))
    assert calls == [(str(tmp_path / 'epoch_1.pth'), b'abc'),
                     (str(tmp_path / 'last_checkpoint'), b'xyz')]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
