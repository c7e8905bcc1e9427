"""SIGTERM to the whole process group (Slurm, systemd, Kubernetes) preempts like one to the trainer.

Before, the DataLoader workers died first and the trainer stopped with ``RuntimeError: DataLoader
worker (pid ...) is killed by signal: Terminated.`` and no snapshot. Real ``tools/train.py`` /
``tools/dist_train.sh`` runs in their own session on a tiny generated root, the group signalled
at a log line of epoch 1.
"""
import os
import os.path as osp
import re
import signal
import subprocess

import pytest
from conftest import REPO_ROOT, demo_overrides, tool_env

from aliprod_plugins.engine import PREEMPTED_EXIT_CODE, safe_load

CONFIG = osp.join(REPO_ROOT, 'configs', 'demo', 'digits_lt_stage1.py')


def train_and_signal_group(launch, work_dir, data_root, workers, persistent,
                           until=r'Epoch\(train\) \[1\]\[2/'):
    """Run ``launch`` in a new session; at the first line matching ``until``, SIGTERM the group.

    Returns:
        tuple: (exit code, output).
    """
    args = [*launch, '--work-dir', str(work_dir), '--cfg-options',
            *demo_overrides(data_root, max_epochs=2)]
    for split in ('train', 'val'):
        args += [f'{split}_dataloader.num_workers={workers}',
                 f'{split}_dataloader.persistent_workers={persistent}']
    proc = subprocess.Popen(args, cwd=REPO_ROOT, env=tool_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    lines = []
    try:
        for line in proc.stdout:
            lines.append(line)
            if until is not None and re.search(until, line):
                os.killpg(proc.pid, signal.SIGTERM)  # `kill -TERM -- -PGID`
                until = None
        return proc.wait(timeout=300), ''.join(lines)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.stdout.close()


def assert_preempted_mid_epoch(work_dir, log) -> int:
    assert 'is killed by signal' not in log, log[-6000:]
    stopped = int(re.search(r'Preemption \(SIGTERM\): stopping after iteration (\d+) \(epoch 1, '
                            r'batch \1/7\)', log).group(1))
    path = osp.join(str(work_dir), f'iter_{stopped}.pth')
    assert f'Preempted: saved {path}' in log
    meta = safe_load(path, map_location='cpu')['meta']
    assert (meta['epoch'], meta['iter'], meta['inner_iter'], meta['mid_epoch']) == \
        (0, stopped, stopped, True)
    return stopped


TRAIN = ['python', osp.join(REPO_ROOT, 'tools', 'train.py'), CONFIG]


@pytest.mark.parametrize('persistent', [False, True])
def test_group_sigterm_with_loader_workers_preempts_mid_epoch(tiny_root, tmp_path, persistent):
    code, log = train_and_signal_group(TRAIN, tmp_path, tiny_root, 2, persistent)
    assert code == PREEMPTED_EXIT_CODE, log[-6000:]
    assert_preempted_mid_epoch(tmp_path, log)  # --resume from it: test_preemption_resume.py


def test_group_sigterm_under_dist_train_preempts_every_rank(tiny_root, tmp_path):
    # torchrun is in the group too: it forwards SIGTERM to the ranks and then exits by the
    # signal itself (its own exit status, not the ranks' 75); the ranks save and exit 75
    launch = ['bash', osp.join(REPO_ROOT, 'tools', 'dist_train.sh'), CONFIG, '2']
    code, log = train_and_signal_group(launch, tmp_path, tiny_root, 1, True,
                                       until=r'Epoch\(train\) \[1\]\[2/')
    assert code != 0, log[-6000:]
    stopped = int(re.search(r'stopping after iteration (\d+)', log).group(1))
    assert f'Preempted: saved {osp.join(str(tmp_path), f"iter_{stopped}.pth")}' in log, \
        log[-6000:]
    assert 'is killed by signal' not in log and 'Traceback' not in log.split('Preempted')[0]
    meta = safe_load(osp.join(str(tmp_path), f'iter_{stopped}.pth'))['meta']
    assert meta['mid_epoch'] is True and meta['inner_iter'] == meta['iter'] == stopped
