"""tools/dist_{train,test}.sh and slurm_test.sh: the command each launches, from its arguments
and NNODES / NODE_RANK / MASTER_ADDR / PORT (GPUS / GPUS_PER_NODE / SRUN_ARGS for Slurm).

``python`` and ``srun`` are replaced by a script that prints its arguments; the end-to-end runs
on CPU are in test_train_resume_test.py and test_readme_promises.py, slurm_train.sh's restarts
in tests/test_engine/test_slurm_preemption.py.
"""
import os
import os.path as osp
import subprocess

import pytest
from conftest import REPO_ROOT

ECHO = '#!/usr/bin/env bash\necho "PYTHONPATH=$PYTHONPATH $(basename "$0") $*"\n'
TOOLS = osp.join(REPO_ROOT, 'tools')


def launch(tmp_path, script, args, **env):
    bin_dir = tmp_path / 'bin'
    bin_dir.mkdir(exist_ok=True)
    for name in ('fakepython', 'srun'):
        (bin_dir / name).write_text(ECHO)
        (bin_dir / name).chmod(0o755)
    run_env = {k: v for k, v in os.environ.items()
               if k not in ('NNODES', 'NODE_RANK', 'MASTER_ADDR', 'PORT', 'PYTHONPATH', 'GPUS',
                            'GPUS_PER_NODE', 'CPUS_PER_TASK', 'SRUN_ARGS')}
    run_env.update(PATH=f'{bin_dir}{os.pathsep}{os.environ["PATH"]}', PYTHON='fakepython', **env)
    proc = subprocess.run(['bash', osp.join(TOOLS, script), *args], env=run_env,
                          capture_output=True, text=True, timeout=60, cwd=str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


@pytest.mark.parametrize('script,args,tail', [
    ('dist_train.sh', ['cfg.py', '4', '--amp'],
     f'{TOOLS}/train.py cfg.py --launcher pytorch --amp'),
    ('dist_test.sh', ['cfg.py', 'e.pth', '4', '--out', 'r.json'],
     f'{TOOLS}/test.py cfg.py e.pth --launcher pytorch --out r.json'),
])
def test_dist_scripts_exec_torchrun(tmp_path, script, args, tail):
    assert launch(tmp_path, script, args) == (
        f'PYTHONPATH={REPO_ROOT} fakepython -m torch.distributed.run --nnodes=1 --node_rank=0 '
        f'--master_addr=127.0.0.1 --nproc_per_node=4 --master_port=29500 {tail}')
    assert launch(tmp_path, script, args, NNODES='2', NODE_RANK='1', MASTER_ADDR='10.0.0.1',
                  PORT='1234', PYTHONPATH='/extra') == (
        f'PYTHONPATH={REPO_ROOT}:/extra fakepython -m torch.distributed.run --nnodes=2 '
        f'--node_rank=1 --master_addr=10.0.0.1 --nproc_per_node=4 --master_port=1234 {tail}')


def test_slurm_test_runs_srun(tmp_path):
    out = launch(tmp_path, 'slurm_test.sh', ['part', 'job', 'cfg.py', 'e.pth', '--out', 'r.json'],
                 GPUS='16', SRUN_ARGS='--qos=low')
    assert out == (f'PYTHONPATH={REPO_ROOT} srun -p part --job-name=job --gres=gpu:8 '
                   '--ntasks=16 --ntasks-per-node=8 --cpus-per-task=5 --kill-on-bad-exit=1 '
                   f'--qos=low fakepython -u {TOOLS}/test.py cfg.py e.pth --launcher=slurm '
                   '--out r.json')
