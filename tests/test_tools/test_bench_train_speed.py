"""``benchmarks/bench_train_speed.py`` runs on CPU and counts what it says it counts."""
import os.path as osp
import re
import sys

import pytest
from conftest import REPO_ROOT

sys.path.insert(0, osp.join(REPO_ROOT, 'benchmarks'))
import bench_train_speed  # noqa: E402


def test_cpu_mode_prints_speeds_syncs_guard_and_a_labelled_estimate(capsys):
    bench_train_speed.main(['--device', 'cpu', '--batch-sizes', '4', '--iters', '2',
                            '--warmup', '1', '--repeats', '1'])
    out = capsys.readouterr().out
    rows = dict(re.findall(r'^  (bare step|runner, ours|runner, stock) +[\d.]+ +[\d.]+ +[\d.]+'
                           r' +- +([\d.]+ \([\d.]+\))', out, re.M))
    assert rows['bare step'] == '0.00 (0.00)'
    assert rows['runner, ours'].endswith('(1.00)')  # FiniteOptimWrapper's one tolist()
    assert 'CPU guard: our runner / MMEngine stock parts' in out
    assert 'finite_optim_wrapper.py:' in out
    assert 'ESTIMATE (arithmetic, not a measurement)' in out and '1,318,717' in out


@pytest.mark.parametrize('argv, match', [
    (['--device', 'cpu', '--amp', 'bf16'], '--amp bf16 expects --device cuda'),
    (['--device', 'cpu', '--data', 'pack'], '--data expects'),
])
def test_bad_options_are_named(argv, match, capsys):
    with pytest.raises(SystemExit):
        bench_train_speed.parse_args(argv)
    assert match in capsys.readouterr().err
