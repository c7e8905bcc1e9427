"""The embedded default (``make demo``): the whole recipe on Digits-LT on a laptop CPU.

    python tools/run_demo.py                       # ~3-4 minutes on 2 cores
    python tools/run_demo.py --seed 1 --work-dir work_dirs/demo_seed1

Steps, each through the real tools and the same components as the AliProducts configs:
build Digits-LT (``tools/make_digits_lt.py``) -> train stage 1 (instance-balanced, head capped)
and switch to class-balanced sampling at a lower LR in the same run
(``configs/demo/digits_lt_two_stage.py``) -> evaluate stage 1's last checkpoint and the final
one (``tools/test.py``) -> tau-normalise stage 1's classifier (``tools/tau_norm.py``) -> plots
(``tools/analysis/``) -> one table and ``<work-dir>/results.json``.
"""
import argparse
import json
import math
import os
import os.path as osp
import subprocess
import sys
import time
from typing import Dict, List, Optional, Tuple

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
STAGE1_CONFIG = osp.join(ROOT, 'configs', 'demo', 'digits_lt_stage1.py')
TWO_STAGE_CONFIG = osp.join(ROOT, 'configs', 'demo', 'digits_lt_two_stage.py')
TABLE_METRICS = ('top1_error', 'mean_class_error', 'many_shot_acc', 'medium_shot_acc',
                 'few_shot_acc')


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Run the Digits-LT demo of the recipe')
    parser.add_argument('--work-dir', default=osp.join(ROOT, 'work_dirs', 'demo'),
                        help='output folder (default: work_dirs/demo)')
    parser.add_argument('--data-root', default=osp.join(ROOT, 'data', 'digits_lt'),
                        help='Digits-LT folder, built when missing (default: data/digits_lt)')
    parser.add_argument('--seed', type=int, default=0, help='training seed (default: 0)')
    parser.add_argument('--stage1-epochs', type=int, default=30,
                        help='instance-balanced epochs (default: 30)')
    parser.add_argument('--stage2-epochs', type=int, default=10,
                        help='class-balanced epochs after the switch (default: 10)')
    parser.add_argument('--quiet', action='store_true', help='hide the training log')
    return parser.parse_args()


def _run(args: List[str], log_path: str, quiet: bool) -> None:
    """Run a tool, echoing its progress lines and keeping its whole output in ``log_path``."""
    _run_all([(args, log_path)], quiet)


def _run_all(jobs: List[Tuple[List[str], str]], quiet: bool = True) -> None:
    """Run tools side by side (each mostly waits on imports), then check every exit code."""
    env = dict(os.environ, PYTHONUNBUFFERED='1')
    procs = []
    for args, log_path in jobs:
        log = open(log_path, 'w')
        # one tool: pipe its output to echo progress; several: straight into their logs
        out = subprocess.PIPE if len(jobs) == 1 else log
        procs.append((args, log_path, log, subprocess.Popen(
            [sys.executable, *args], cwd=ROOT, env=env, text=True, stdout=out,
            stderr=subprocess.STDOUT)))
    if len(procs) == 1:
        args, log_path, log, proc = procs[0]
        for line in proc.stdout:
            log.write(line)
            if not quiet and ('Epoch(' in line or 'StageSwitchHook' in line
                              or 'Error' in line):
                print('   ', line.rstrip()[-150:], flush=True)
    for args, log_path, log, proc in procs:
        log.close()
        if proc.wait() != 0:
            raise RuntimeError(f'{osp.basename(args[0])} failed (exit {proc.returncode}); '
                               f'see {log_path}')


def _metrics(path: str) -> Dict[str, float]:
    with open(path) as f:
        raw = json.load(f)
    raw = raw.get('metrics', raw)
    return {k.split('/')[-1]: v for k, v in raw.items() if isinstance(v, (int, float))}


def run_demo(work_dir: str, data_root: str, seed: int = 0, stage1_epochs: int = 30,
             stage2_epochs: int = 10, quiet: bool = False) -> Dict[str, Dict[str, float]]:
    """Build the data, train both stages, evaluate, tau-normalise and plot.

    Args:
        work_dir (str): Output folder.
        data_root (str): Digits-LT folder (built with the default profile when missing).
        seed (int): Training seed. Defaults to 0.
        stage1_epochs (int): Epochs before the switch. Defaults to 30.
        stage2_epochs (int): Epochs after the switch. Defaults to 10.
        quiet (bool): Hide training progress. Defaults to False.

    Returns:
        dict: ``{'stage1': metrics, 'stage2': metrics, 'stage1_tau_norm': metrics}``.
    """
    work_dir, data_root = osp.abspath(work_dir), osp.abspath(data_root)
    os.makedirs(work_dir, exist_ok=True)
    tools = osp.join(ROOT, 'tools')
    if not osp.isfile(osp.join(data_root, 'train.json')):
        print(f'[1/5] building Digits-LT in {data_root}', flush=True)
        _run([osp.join(tools, 'make_digits_lt.py'), data_root],
             osp.join(work_dir, 'make_data.log'), quiet)
    total = stage1_epochs + stage2_epochs
    interval = math.gcd(stage1_epochs, stage2_epochs)
    milestones = [round(stage1_epochs * 2 / 3), round(stage1_epochs * 13 / 15)]
    common = [f'{s}_dataloader.dataset.data_root={data_root}' for s in ('train', 'val', 'test')]
    train_dir = osp.join(work_dir, 'train')
    print(f'[2/5] training: {stage1_epochs} epochs instance-balanced, then {stage2_epochs} '
          f'class-balanced (seed {seed})', flush=True)
    _run([osp.join(tools, 'train.py'), TWO_STAGE_CONFIG, '--work-dir', train_dir,
          '--cfg-options', *common, f'randomness.seed={seed}', f'train_cfg.max_epochs={total}',
          f'train_cfg.val_interval={stage1_epochs}', f'custom_hooks.0.switch_epoch={stage1_epochs}',
          f'param_scheduler.milestones={milestones}'.replace(' ', ''),
          f'default_hooks.checkpoint.interval={interval}',
          'default_hooks.checkpoint.max_keep_ckpts=-1'],
         osp.join(work_dir, 'train.log'), quiet)
    stage1_ckpt = osp.join(train_dir, f'epoch_{stage1_epochs}.pth')
    stage2_ckpt = osp.join(train_dir, f'epoch_{total}.pth')

    print('[3/5] evaluating stage 1 and stage 2 checkpoints', flush=True)
    _run_all([([osp.join(tools, 'test.py'), config, ckpt, '--work-dir',
                osp.join(work_dir, f'test_{name}'), '--out', osp.join(work_dir, f'{name}.json'),
                '--cfg-options', *common], osp.join(work_dir, f'test_{name}.log'))
              for name, config, ckpt in (('stage1', STAGE1_CONFIG, stage1_ckpt),
                                         ('stage2', TWO_STAGE_CONFIG, stage2_ckpt))])
    results = {name: _metrics(osp.join(work_dir, f'{name}.json'))
               for name in ('stage1', 'stage2')}

    print('[4/5] tau-normalising the stage-1 classifier; [5/5] plotting', flush=True)
    tau_dir = osp.join(work_dir, 'tau_norm')
    _run_all([
        ([osp.join(tools, 'tau_norm.py'), STAGE1_CONFIG, stage1_ckpt, '--out-dir', tau_dir,
          '--device', 'cpu', '--cfg-options', *common], osp.join(work_dir, 'tau_norm.log')),
        ([osp.join(tools, 'analysis', 'plot_class_sizes.py'), STAGE1_CONFIG, '--out',
          osp.join(work_dir, 'class_sizes.png'), '--cfg-options', *common],
         osp.join(work_dir, 'plot_sizes.log')),
        ([osp.join(tools, 'analysis', 'plot_per_class_acc.py'),
          osp.join(work_dir, 'stage1_per_class.csv'), osp.join(work_dir, 'stage2_per_class.csv'),
          '--labels', 'stage 1 (instance-balanced)', 'stage 2 (class-balanced)', '--out',
          osp.join(work_dir, 'per_class_acc.png')], osp.join(work_dir, 'plot_acc.log')),
    ])
    best = _best_tau(tau_dir)
    if best is not None:
        results['stage1_tau_norm'] = best

    with open(osp.join(work_dir, 'results.json'), 'w') as f:
        json.dump(results, f, indent=2)
    return results


def _best_tau(tau_dir: str) -> Optional[Dict[str, float]]:
    path = osp.join(tau_dir, 'best.json')
    if not osp.isfile(path):
        return None
    with open(path) as f:
        best = json.load(f)
    metrics = {k.split('/')[-1]: v for k, v in best.get('metrics', best).items()
               if isinstance(v, (int, float))}
    if 'tau' in best:
        metrics['tau'] = best['tau']
    return metrics


def format_table(results: Dict[str, Dict[str, float]]) -> str:
    """One row per stage, the long-tail metrics as columns."""
    header = f'{"":<18}' + ''.join(f'{m:>18}' for m in TABLE_METRICS)
    rows = [header, '-' * len(header)]
    for name, metrics in results.items():
        cells = ''.join(f'{metrics.get(m, float("nan")):>18.4f}' for m in TABLE_METRICS)
        rows.append(f'{name:<18}{cells}')
    return '\n'.join(rows)


def main() -> None:
    args = parse_args()
    start = time.time()
    results = run_demo(args.work_dir, args.data_root, args.seed, args.stage1_epochs,
                       args.stage2_epochs, args.quiet)
    print()
    print(format_table(results))
    print(f'\nresults: {osp.join(args.work_dir, "results.json")}; plots: class_sizes.png, '
          f'per_class_acc.png in {args.work_dir} ({time.time() - start:.0f} s)')


if __name__ == '__main__':
    main()
