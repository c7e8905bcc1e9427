"""Run tools/train.py, SIGKILLing the process halfway through writing its Nth checkpoint.

    KILL_AT_SAVE=2 python tests/test_engine/train_killed_mid_save.py CONFIG [train.py args]

The real ``atomic_write_bytes`` runs; only the file object it writes the Nth ``*.pth`` through
is replaced by one that writes half the bytes, fsyncs them and kills the process: the state a
power loss or an OOM kill leaves in the middle of a save.
"""
import os
import os.path as osp
import runpy
import signal
import sys

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, REPO_ROOT)

from aliprod_plugins.engine import atomic_io  # noqa: E402

KILL_AT = int(os.environ['KILL_AT_SAVE'])
_saves = []
_real_write, _real_fdopen = atomic_io.atomic_write_bytes, os.fdopen


def _dying_fdopen(fd, mode='r', *args, **kwargs):
    f = _real_fdopen(fd, mode, *args, **kwargs)

    def write(data):
        os.write(f.fileno(), bytes(data[:len(data) // 2]))
        os.fsync(f.fileno())
        os.kill(os.getpid(), signal.SIGKILL)
    f.write = write
    return f


def _counting_write(path, data):
    if str(path).endswith('.pth'):
        _saves.append(path)
        if len(_saves) == KILL_AT:
            atomic_io.os.fdopen = _dying_fdopen
    return _real_write(path, data)


atomic_io.atomic_write_bytes = _counting_write
sys.argv = [osp.join(REPO_ROOT, 'tools', 'train.py')] + sys.argv[1:]
runpy.run_path(sys.argv[0], run_name='__main__')
