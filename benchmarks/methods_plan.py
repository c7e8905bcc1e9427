"""The per-seed plan of ``bench_methods.py``: which steps run, from which checkpoints.

Stage 1 is trained once per seed; the stage-2 variants start from its last checkpoint.
Work dirs: ``<work>/seed<N>/<step>`` (training), ``<step>_eval`` (``tools/test.py``).
"""
import os
import os.path as osp
from typing import Dict

from methods_bench import TOOLS, Bench
from methods_noisy import run_noisy

from aliprod_plugins.runs import read_metrics

Results = Dict[str, Dict[str, float]]


def run_seed(bench: Bench, seed: int) -> Results:
    """Every row of the table for one training seed (or the ``--methods`` asked for)."""
    w, e1, e2 = osp.join(bench.work, f'seed{seed}'), bench.e1, bench.e2
    bench.current_seed = seed
    os.makedirs(w, exist_ok=True)
    s1 = bench.train('stage1', 'stage1', f'{w}/stage1', seed, e1, extra=bench.stage1_opts())
    res = {'stage1': bench.test('stage1', 'stage1', s1, f'{w}/stage1_eval')}
    res.update(new_methods(bench, seed, w, s1))
    if bench.args.methods is not None:
        return selected(bench, seed, w, s1, res)
    res['two_stage'] = bench.two_stage('two_stage', f'{w}/two_stage', seed, resume=s1)
    for key in ('crt', 'lws'):
        res[key] = bench.train_test(key, key, f'{w}/{key}', seed, e2, load=s1,
                                    extra=[f'param_scheduler.T_max={e2}'])
    bench.run('tau_norm', [osp.join(TOOLS, 'tau_norm.py'), bench.cfg['stage1'], s1,
                           '--out-dir', f'{w}/tau_norm', '--device', 'cpu', '--cfg-options',
                           *bench.data_opts()], f'{w}/tau_norm.log', f'{w}/tau_norm/best.json')
    res['tau_norm'] = read_metrics(f'{w}/tau_norm/best.json')
    res['bs'] = bench.train_test('bs', 'bs', f'{w}/bs', seed, e1, extra=bench.stage1_opts())
    if bench.args.noise > 0:
        res.update(run_noisy(bench, seed, w))
    return res


def new_methods(bench: Bench, seed: int, w: str, s1: str) -> Results:
    """Weight balancing and NCM (the rows of issue 21)."""
    res = {}
    if bench.want('wb'):
        wb1 = s1 if bench.wb_shares_stage1 else bench.train(
            'wb_stage1', 'wb1', f'{w}/wb_stage1', seed, bench.e1, extra=bench.stage1_opts())
        res['wb'] = bench.train_test('wb', 'wb', f'{w}/wb', seed, bench.e2, load=wb1,
                                     extra=[f'param_scheduler.T_max={bench.e2}'])
    if bench.want('ncm'):
        ncm = f'{w}/ncm.pth'
        bench.run('ncm', [osp.join(TOOLS, 'build_ncm.py'), bench.cfg['stage1'], s1, '--out',
                          ncm, '--device', 'cpu', '--cfg-options', *bench.data_opts()],
                  f'{w}/ncm.log', ncm)
        res['ncm'] = bench.test('ncm', 'ncm', ncm, f'{w}/ncm_eval')
    return res


def selected(bench: Bench, seed: int, w: str, s1: str, res: Results) -> Results:
    """With ``--methods``: cRT besides the new rows (the others as in :func:`run_seed`)."""
    if bench.want('crt'):
        res['crt'] = bench.train_test('crt', 'crt', f'{w}/crt', seed, bench.e2, load=s1,
                                      extra=[f'param_scheduler.T_max={bench.e2}'])
    return res
