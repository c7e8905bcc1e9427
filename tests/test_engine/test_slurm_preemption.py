"""tools/slurm_train.sh asks for the preemption signal and restarts on exit code 75 only.

``srun`` is replaced by a script on PATH that records its arguments and exits with the next
code of a list, as the training processes would.
"""
import os
import os.path as osp
import subprocess

import pytest

from aliprod_plugins.engine import PREEMPTED_EXIT_CODE
from conftest import REPO_ROOT

FAKE_SRUN = """#!/usr/bin/env bash
echo "$@" >> "$CALLS"
n=$(wc -l < "$CALLS")
code=$(sed -n "${n}p" "$CODES")
exit "${code:-0}"
"""


def slurm_train(tmp_path, codes, **env):
    bin_dir = tmp_path / 'bin'
    bin_dir.mkdir()
    srun = bin_dir / 'srun'
    srun.write_text(FAKE_SRUN)
    srun.chmod(0o755)
    (tmp_path / 'codes').write_text(''.join(f'{c}\n' for c in codes))
    calls = tmp_path / 'calls'
    run_env = dict(os.environ, PATH=f'{bin_dir}{os.pathsep}{os.environ["PATH"]}',
                   CALLS=str(calls), CODES=str(tmp_path / 'codes'), GPUS='2',
                   GPUS_PER_NODE='2', **env)
    proc = subprocess.run(['bash', osp.join(REPO_ROOT, 'tools', 'slurm_train.sh'), 'part',
                           'job', 'cfg.py', 'wd', '--amp'], env=run_env, capture_output=True,
                          text=True, timeout=60)
    return proc.returncode, calls.read_text().splitlines()


@pytest.mark.parametrize('codes,expected_calls,expected_exit', [
    ([0], 1, 0),
    ([PREEMPTED_EXIT_CODE, PREEMPTED_EXIT_CODE, 0], 3, 0),
    ([PREEMPTED_EXIT_CODE, 1], 2, 1),  # a crash is not retried
])
def test_restarts_with_resume_while_preempted(tmp_path, codes, expected_calls, expected_exit):
    code, calls = slurm_train(tmp_path, codes)
    assert (len(calls), code) == (expected_calls, expected_exit)
    for call in calls:
        assert '--signal=USR1@120' in call
        assert call.endswith('--work-dir=wd --launcher=slurm --resume --amp')


def test_restarts_are_bounded_and_the_signal_lead_is_configurable(tmp_path):
    code, calls = slurm_train(tmp_path, [PREEMPTED_EXIT_CODE] * 5, MAX_RESTARTS='2',
                              SIGNAL_LEAD='300')
    assert (len(calls), code) == (3, PREEMPTED_EXIT_CODE)
    assert all('--signal=USR1@300' in call for call in calls)
