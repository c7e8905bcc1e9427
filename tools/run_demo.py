"""The embedded default (``make demo``): the whole recipe on Digits-LT on a laptop CPU.

    python tools/run_demo.py                       # see the README for the time it takes
    python tools/run_demo.py --seed 1 --work-dir work_dirs/demo_seed1

Steps, each through the real tools and the same components as the AliProducts configs:
build Digits-LT (``tools/make_digits_lt.py``) -> train stage 1 (instance-balanced, head capped)
and switch to class-balanced sampling at a lower LR in the same run
(``configs/demo/digits_lt_two_stage.py``; one line per epoch: loss, lr, ETA) -> evaluate stage
1's last checkpoint and the final one, with and without flip TTA (``tools/test.py [--tta]``) ->
tau-normalise stage 1's classifier (``tools/tau_norm.py``) -> plots (``tools/analysis/``) ->
publish the final checkpoint (``tools/publish_model.py``) and predict the validation images
with it (``tools/infer.py [--tta]``) -> one table and ``<work-dir>/results.json``. Every tool's
whole output is in ``<work-dir>/*.log``.

Every machine prints the same table: the tools run with :data:`PINNED_ENV`, which fixes what
makes CPU float results machine-dependent (thread count, MKL's code path, ATen's and oneDNN's
instruction sets; the GPU is hidden). These variables are read when torch loads, so they are
set for the tools' processes, not here. ``--no-pin`` runs with the machine's own settings.
"""
import argparse
import csv
import json
import math
import os
import os.path as osp
import re
import subprocess
import sys
import time
from typing import Dict, List, Optional, Tuple

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from aliprod_plugins.cli import run_tool  # noqa: E402

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
STAGE1_CONFIG = osp.join(ROOT, 'configs', 'demo', 'digits_lt_stage1.py')
TWO_STAGE_CONFIG = osp.join(ROOT, 'configs', 'demo', 'digits_lt_two_stage.py')
TABLE_METRICS = ('top1_error', 'mean_class_error', 'many_shot_acc', 'medium_shot_acc',
                 'few_shot_acc')
STEPS = 7
_TRAIN_LINE = re.compile(r'Epoch\(train\)\s*\[(\d+)\]\[\s*(\d+)/(\d+)\].*?lr: (\S+).*?'
                         r'eta: (\S+).*?loss: (\S+)')
#: Set for every tool the demo runs (read when torch is imported, so only a child process
#: can take them). 40 epochs of SGD amplify rounding differences into points of accuracy.
PINNED_ENV = {
    # one thread: reductions are not split differently on machines with other core counts
    'OMP_NUM_THREADS': '1',
    'MKL_NUM_THREADS': '1',
    # MKL's conditional numerical reproducibility: the AVX2 code path on Intel and AMD alike
    'MKL_CBWR': 'AVX2',
    # ATen's vectorised kernels and oneDNN's (convolutions) at AVX2, not AVX-512 / AMX: every
    # x86-64 CPU since 2013-2015 (Intel Haswell, AMD Excavator / Zen) has it. Pinning lower
    # (ATen 'default', oneDNN SSE41) made a demo training step 3.4x slower (295 vs 86.7 ms
    # CPU per step here), AVX2 costs 1.1x (97.5 ms)
    'ATEN_CPU_CAPABILITY': 'avx2',
    'ONEDNN_MAX_CPU_ISA': 'AVX2',
    'DNNL_MAX_CPU_ISA': 'AVX2',
    # the demo is a CPU demo: a GPU's kernels would give other figures
    'CUDA_VISIBLE_DEVICES': '',
}
_VAL_LINE = re.compile(r'Epoch\(val\)\s*\[(\d+)\].*?longtail/top1_error: (\S+).*?'
                       r'longtail/mean_class_error: (\S+)')


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
    parser.add_argument('--no-pin', action='store_true', help="run the tools with this machine's "
                        'threads and instruction sets (faster; figures then differ by machine)')
    return parser.parse_args()


def _step(number: int, text: str) -> None:
    print(f'[{number}/{STEPS}] {text}', flush=True)


def progress_line(line: str, stage1_epochs: int, total_epochs: int) -> Optional[str]:
    """The demo's one-line view of a training log line, or None to keep it in the log only.

    Args:
        line (str): A line of ``tools/train.py``'s output.
        stage1_epochs (int): Epochs of stage 1 (stage 2 follows).
        total_epochs (int): All epochs.

    Returns:
        str, optional: ``stage 1  epoch  3/40  loss 1.2345  lr 1.0e-01  eta 0:01:10`` at the
        end of each epoch, the validation errors, the stage switch, errors; else None.
    """
    match = _TRAIN_LINE.search(line)
    if match:
        epoch, it, iters, lr, eta, loss = match.groups()
        if it != iters:
            return None
        stage = 1 if int(epoch) <= stage1_epochs else 2
        return (f'    stage {stage}  epoch {int(epoch):>{len(str(total_epochs))}}/{total_epochs}'
                f'  loss {float(loss):.4f}  lr {float(lr):.1e}  eta {eta}')
    match = _VAL_LINE.search(line)
    if match:
        epoch, top1_error, mean_class_error = match.groups()
        return (f'    validation after epoch {epoch}: top-1 error {float(top1_error):.2f}, '
                f'mean class error {float(mean_class_error):.2f}')
    if 'StageSwitchHook: ' in line:
        return '    ' + re.split(r' - (?:INFO|WARNING) - ', line)[-1].strip()
    if 'Error' in line or 'Traceback' in line:
        return '    ' + line.rstrip()
    return None


def tool_env(pin: bool = True) -> Dict[str, str]:
    """The environment of the tools: this one, unbuffered, with :data:`PINNED_ENV` on top.

    Args:
        pin (bool): Apply :data:`PINNED_ENV` (whatever the caller's environment sets).
            Defaults to True.
    """
    return dict(os.environ, PYTHONUNBUFFERED='1', **(PINNED_ENV if pin else {}))


def _run(args: List[str], log_path: str, quiet: bool, stage1_epochs: int = 0,
         total_epochs: int = 0, env: Optional[Dict[str, str]] = None) -> None:
    """Run a tool, echoing its progress (see :func:`progress_line`) and logging everything."""
    env = env or tool_env()
    with open(log_path, 'w') as log:
        proc = subprocess.Popen([sys.executable, *args], cwd=ROOT, env=env, text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        for line in proc.stdout:
            log.write(line)
            shown = None if quiet else progress_line(line, stage1_epochs, total_epochs)
            if shown is not None:
                print(shown, flush=True)
    if proc.wait() != 0:
        raise RuntimeError(f'{osp.basename(args[0])} failed (exit {proc.returncode}); '
                           f'see {log_path}')


def _run_all(jobs: List[Tuple[List[str], str]], env: Optional[Dict[str, str]] = None) -> None:
    """Run tools side by side (each mostly waits on imports), then check every exit code."""
    env = env or tool_env()
    procs = []
    for args, log_path in jobs:
        log = open(log_path, 'w')
        procs.append((args, log_path, log, subprocess.Popen(
            [sys.executable, *args], cwd=ROOT, env=env, text=True, stdout=log,
            stderr=subprocess.STDOUT)))
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
             stage2_epochs: int = 10, quiet: bool = False,
             pin: bool = True) -> Dict[str, Dict[str, float]]:
    """Build the data, train both stages, evaluate, tau-normalise and plot.

    Args:
        work_dir (str): Output folder.
        data_root (str): Digits-LT folder (built with the default profile when missing).
        seed (int): Training seed. Defaults to 0.
        stage1_epochs (int): Epochs before the switch. Defaults to 30.
        stage2_epochs (int): Epochs after the switch. Defaults to 10.
        quiet (bool): Hide training progress. Defaults to False.
        pin (bool): Run the tools with :data:`PINNED_ENV`. Defaults to True.

    Returns:
        dict: ``{'stage1': metrics, 'stage2': metrics, 'stage1_tau_norm': metrics}``.
    """
    work_dir, data_root = osp.abspath(work_dir), osp.abspath(data_root)
    env = tool_env(pin)
    os.makedirs(work_dir, exist_ok=True)
    tools = osp.join(ROOT, 'tools')
    if not osp.isfile(osp.join(data_root, 'train.json')):
        _step(1, f'building Digits-LT in {data_root}')
        _run([osp.join(tools, 'make_digits_lt.py'), data_root],
             osp.join(work_dir, 'make_data.log'), quiet, env=env)
    else:
        _step(1, f'Digits-LT found in {data_root}')
    total = stage1_epochs + stage2_epochs
    interval = math.gcd(stage1_epochs, stage2_epochs)
    milestones = [round(stage1_epochs * 2 / 3), round(stage1_epochs * 13 / 15)]
    common = [f'{s}_dataloader.dataset.data_root={data_root}' for s in ('train', 'val', 'test')]
    train_dir = osp.join(work_dir, 'train')
    _step(2, f'training: {stage1_epochs} epochs instance-balanced, then {stage2_epochs} '
          f'class-balanced (seed {seed}); full log: {osp.join(work_dir, "train.log")}')
    _run([osp.join(tools, 'train.py'), TWO_STAGE_CONFIG, '--work-dir', train_dir,
          '--cfg-options', *common, f'randomness.seed={seed}', f'train_cfg.max_epochs={total}',
          f'train_cfg.val_interval={stage1_epochs}', f'custom_hooks.0.switch_epoch={stage1_epochs}',
          f'param_scheduler.milestones={milestones}'.replace(' ', ''),
          f'default_hooks.checkpoint.interval={interval}',
          'default_hooks.checkpoint.max_keep_ckpts=-1',
          # log every epoch's last iteration too: one progress line per epoch
          'default_hooks.logger.ignore_last=False'],
         osp.join(work_dir, 'train.log'), quiet, stage1_epochs, total, env)
    stage1_ckpt = osp.join(train_dir, f'epoch_{stage1_epochs}.pth')
    stage2_ckpt = osp.join(train_dir, f'epoch_{total}.pth')

    _step(3, 'evaluating the stage 1 and stage 2 checkpoints, with and without flip TTA '
          '(tools/test.py [--tta])')
    evaluations = [(f'{name}{suffix}', config, ckpt, flags)
                   for name, config, ckpt in (('stage1', STAGE1_CONFIG, stage1_ckpt),
                                              ('stage2', TWO_STAGE_CONFIG, stage2_ckpt))
                   for suffix, flags in (('', []), ('_tta', ['--tta']))]
    _run_all([([osp.join(tools, 'test.py'), config, ckpt, *flags, '--work-dir',
                osp.join(work_dir, f'test_{name}'), '--out', osp.join(work_dir, f'{name}.json'),
                '--cfg-options', *common], osp.join(work_dir, f'test_{name}.log'))
              for name, config, ckpt, flags in evaluations], env)
    results = {name: _metrics(osp.join(work_dir, f'{name}.json'))
               for name, _, _, _ in evaluations}

    _step(4, 'tau-normalising the stage-1 classifier (tools/tau_norm.py)')
    _step(5, 'plotting class sizes and per-class accuracy (tools/analysis/)')
    _step(6, 'publishing the final checkpoint (tools/publish_model.py)')
    tau_dir = osp.join(work_dir, 'tau_norm')
    published_stem = osp.join(work_dir, 'digits_lt_two_stage')
    for old in _published(published_stem):
        os.remove(old)
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
        ([osp.join(tools, 'publish_model.py'), stage2_ckpt, published_stem + '.pth'],
         osp.join(work_dir, 'publish.log')),
    ], env)
    best = _best_tau(tau_dir)
    if best is not None:
        results['stage1_tau_norm'] = best
    (published, ) = _published(published_stem)
    print(f'    {published}: {osp.getsize(published) / 2**20:.1f} MiB '
          f'(training checkpoint {osp.getsize(stage2_ckpt) / 2**20:.1f} MiB)', flush=True)

    val_dir = osp.join(data_root, 'val')
    _step(7, f'predicting the validation images with it (tools/infer.py [--tta] {val_dir})')
    preds = {suffix: osp.join(work_dir, f'predictions{suffix}.csv') for suffix in ('', '_tta')}
    _run_all([([osp.join(tools, 'infer.py'), TWO_STAGE_CONFIG, published, val_dir, *flags,
                '--out', preds[suffix], '--device', 'cpu'],
               osp.join(work_dir, f'infer{suffix}.log'))
              for suffix, flags in (('', []), ('_tta', ['--tta']))], env)
    results['infer'] = {f'top1_error{suffix}': _csv_top1_error(path)
                        for suffix, path in preds.items()}
    if not quiet:
        print(format_predictions(preds[''], data_root))
        print(f'    tools/infer.py top-1 error {results["infer"]["top1_error"]:.2f} '
              f'(tools/test.py {results["stage2"]["top1_error"]:.2f}); with --tta '
              f'{results["infer"]["top1_error_tta"]:.2f} (tools/test.py --tta '
              f'{results["stage2_tta"]["top1_error"]:.2f})', flush=True)

    with open(osp.join(work_dir, 'results.json'), 'w') as f:
        json.dump(results, f, indent=2)
    return results


def _published(stem: str) -> List[str]:
    folder, name = osp.split(stem)
    return sorted(osp.join(folder, f) for f in os.listdir(folder)
                  if re.fullmatch(re.escape(name) + r'-[0-9a-f]{8}\.pth', f))


def _read_predictions(path: str) -> List[List[str]]:
    with open(path, newline='') as f:
        return list(csv.reader(f))[1:]


def _csv_top1_error(path: str) -> float:
    """Top-1 error (%) of an infer.py CSV over images stored as ``<split>/<class id>/<file>``."""
    rows = [r for r in _read_predictions(path) if not r[-1]]
    wrong = sum(r[1] != osp.basename(osp.dirname(r[0])) for r in rows)
    return 100.0 * wrong / max(len(rows), 1)


def format_predictions(path: str, data_root: str, per_class: int = 1) -> str:
    """A few rows of an infer.py CSV: image, true class, top-2 predictions."""
    rows, seen = [], {}
    for row in _read_predictions(path):
        label = osp.basename(osp.dirname(row[0]))
        if seen.get(label, 0) < per_class and label in ('00000', '00003', '00006', '00009'):
            seen[label] = seen.get(label, 0) + 1
            rows.append(f'    {osp.relpath(row[0], data_root):<22}{label:<8}'
                        f'{row[1]} ({float(row[2]):.3f}), {row[3]} ({float(row[4]):.3f})')
    header = f'    {"image":<22}{"class":<8}predicted (probability), runner-up'
    return '\n'.join([header] + rows)


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


def row_labels(stage1_epochs: int = 30, total_epochs: int = 40) -> Dict[str, str]:
    """Table row of each result, in the order printed."""
    return {
        'stage1': f'stage 1 (instance-balanced, epoch {stage1_epochs})',
        'stage1_tta': 'stage 1 + flip TTA',
        'stage2': f'stage 2 (class-balanced, epoch {total_epochs})',
        'stage2_tta': 'stage 2 + flip TTA',
        'stage1_tau_norm': 'stage 1 + tau-norm (tau picked on val)',
    }


def format_table(results: Dict[str, Dict[str, float]], seed: int = 0, stage1_epochs: int = 30,
                 total_epochs: int = 40) -> str:
    """The results as the Markdown table of the README (percent, two decimals)."""
    names = ('top-1 error', 'mean class error', 'many-shot acc', 'medium-shot acc',
             'few-shot acc')
    rows = [f'| `make demo` (seed {seed}), % | ' + ' | '.join(names) + ' |',
            '|---' * (len(names) + 1) + '|']
    for key, label in row_labels(stage1_epochs, total_epochs).items():
        if key in results:
            cells = ' | '.join(f'{results[key][m]:.2f}' if m in results[key] else 'n/a'
                               for m in TABLE_METRICS)
            rows.append(f'| {label} | {cells} |')
    return '\n'.join(rows)


def main() -> None:
    args = parse_args()
    if not args.no_pin:
        print('CPU settings pinned for the same figures on every machine: ' +
              ' '.join(f'{k}={v!r}' if not v else f'{k}={v}' for k, v in PINNED_ENV.items()),
              flush=True)
    start = time.time()
    results = run_demo(args.work_dir, args.data_root, args.seed, args.stage1_epochs,
                       args.stage2_epochs, args.quiet, not args.no_pin)
    print()
    print(format_table(results, args.seed, args.stage1_epochs,
                       args.stage1_epochs + args.stage2_epochs))
    print(f'\nresults: {osp.join(args.work_dir, "results.json")}; plots: class_sizes.png, '
          f'per_class_acc.png in {args.work_dir} ({time.time() - start:.0f} s)')


if __name__ == '__main__':
    run_tool(main)
