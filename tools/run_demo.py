"""The embedded default (``make demo``): the whole recipe on Digits-LT on a laptop CPU.

    python tools/run_demo.py                       # about 2 minutes on a quiet 2-core machine
    python tools/run_demo.py --seed 1 --work-dir work_dirs/demo_seed1

Steps, each through the real tools and the same components as the AliProducts configs:
build Digits-LT (``tools/make_digits_lt.py``) -> train stage 1 (instance-balanced, head capped)
and switch to class-balanced sampling at a lower LR in the same run
(``configs/demo/digits_lt_two_stage.py``; one line per epoch from the run's
``vis_data/scalars.json``: loss, lr, ETA) -> evaluate stage 1's last checkpoint and the final
one, with and without flip TTA (``tools/test.py [--tta]``) -> tau-normalise stage 1's
classifier (``tools/tau_norm.py``) -> plots (``tools/analysis/``) -> publish the final
checkpoint (``tools/publish_model.py``) and predict the validation images with it
(``tools/infer.py [--tta]``) -> one table and ``<work-dir>/results.json``. Every tool's whole
output is in ``<work-dir>/*.log``; the tools run through :class:`aliprod_plugins.runs.StepRunner`.

Every machine prints the same table: the tools run with :data:`PINNED_ENV`, which fixes what
makes CPU float results machine-dependent (thread count, MKL's code path, ATen's and oneDNN's
instruction sets; the GPU is hidden). These variables are read when torch loads, so they are
set for the tools' processes, not here. ``--no-pin`` runs with the machine's own settings.
"""
import argparse
import json
import os
import os.path as osp
import sys
import time
from typing import Dict, List, Optional, Tuple

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from aliprod_plugins.checks import check_int  # noqa: E402
from aliprod_plugins.cli import run_tool  # noqa: E402
from aliprod_plugins.runs import schedule  # noqa: E402
from aliprod_plugins.runs import PINNED_ENV, Step, StepRunner, read_metrics, tool_env  # noqa
from aliprod_plugins.runs.demo_report import (csv_top1_error, format_predictions,  # noqa
                                              format_table, published_files)
from aliprod_plugins.runs.demo_train import train_step  # noqa: E402

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
TOOLS = osp.join(ROOT, 'tools')
STAGE1_CONFIG = osp.join(ROOT, 'configs', 'demo', 'digits_lt_stage1.py')
TWO_STAGE_CONFIG = osp.join(ROOT, 'configs', 'demo', 'digits_lt_two_stage.py')
STEPS = 7
__all__ = ['PINNED_ENV', 'format_table', 'run_demo']


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Run the Digits-LT demo of the recipe')
    parser.add_argument('--work-dir', default=osp.join(ROOT, 'work_dirs', 'demo'),
                        help='output folder (default: work_dirs/demo)')
    parser.add_argument('--data-root', default=osp.join(ROOT, 'data', 'digits_lt'),
                        help='Digits-LT folder, built when missing (default: data/digits_lt)')
    parser.add_argument('--seed', type=int, default=0, help='training seed (default: 0)')
    parser.add_argument('--stage1-epochs', type=int, default=None,
                        help='instance-balanced epochs (default: the two-stage config\'s, 30)')
    parser.add_argument('--stage2-epochs', type=int, default=None,
                        help='class-balanced epochs after the switch (default: the config\'s, '
                        '10)')
    parser.add_argument('--quiet', action='store_true', help='hide the training log')
    parser.add_argument('--no-pin', action='store_true', help="run the tools with this machine's "
                        'threads and instruction sets (faster; figures then differ by machine)')
    return parser.parse_args()


def _title(number: int, text: str) -> str:
    return f'[{number}/{STEPS}] {text}'


def demo_epochs(stage1_epochs: Optional[int], stage2_epochs: Optional[int]) -> Tuple[int, int]:
    """The epochs of both stages: those given, else the two-stage config's (30 and 10)."""
    e1, e2 = schedule.stage_epochs(TWO_STAGE_CONFIG)
    return (check_int('--stage1-epochs', e1 if stage1_epochs is None else stage1_epochs, low=1,
                      owner='run_demo.py'),
            check_int('--stage2-epochs', e2 if stage2_epochs is None else stage2_epochs, low=1,
                      owner='run_demo.py'))


def run_demo(work_dir: str, data_root: str, seed: int = 0, stage1_epochs: Optional[int] = None,
             stage2_epochs: Optional[int] = None, quiet: bool = False,
             pin: bool = True) -> Dict[str, Dict[str, float]]:
    """Build the data, train both stages, evaluate, tau-normalise and plot.

    Args:
        work_dir (str): Output folder.
        data_root (str): Digits-LT folder (built with the default profile when missing).
        seed (int): Training seed. Defaults to 0.
        stage1_epochs (int, optional): Epochs before the switch. Defaults to None (the
            two-stage config's).
        stage2_epochs (int, optional): Epochs after the switch. Defaults to None (the
            config's).
        quiet (bool): Hide training progress. Defaults to False.
        pin (bool): Run the tools with :data:`PINNED_ENV`. Defaults to True.

    Returns:
        dict: ``{'stage1': metrics, 'stage2': metrics, 'stage1_tau_norm': metrics, ...}``.
    """
    work_dir, data_root = osp.abspath(work_dir), osp.abspath(data_root)
    runner = StepRunner(tool_env(PINNED_ENV if pin else None))
    os.makedirs(work_dir, exist_ok=True)
    if not osp.isfile(osp.join(data_root, 'train.json')):
        runner.run(Step('make data', [osp.join(TOOLS, 'make_digits_lt.py'), data_root],
                        osp.join(work_dir, 'make_data.log'),
                        title=_title(1, f'building Digits-LT in {data_root}')))
    else:
        print(_title(1, f'Digits-LT found in {data_root}'), flush=True)
    e1, e2 = demo_epochs(stage1_epochs, stage2_epochs)
    milestones = schedule.scaled_milestones(TWO_STAGE_CONFIG, e1,
                                            schedule.stage_epochs(TWO_STAGE_CONFIG)[0])
    common = [f'{s}_dataloader.dataset.data_root={data_root}' for s in ('train', 'val', 'test')]
    train_dir = osp.join(work_dir, 'train')
    train_step(runner, TWO_STAGE_CONFIG, train_dir, osp.join(work_dir, 'train.log'), seed, e1,
               e2, milestones, common, quiet,
               _title(2, f'training: {e1} epochs instance-balanced, then {e2} class-balanced '
                      f'(seed {seed}); full log: {osp.join(work_dir, "train.log")}'))
    stage1_ckpt = osp.join(train_dir, f'epoch_{e1}.pth')
    stage2_ckpt = osp.join(train_dir, f'epoch_{e1 + e2}.pth')

    evaluations = [(f'{name}{suffix}', config, ckpt, flags)
                   for name, config, ckpt in (('stage1', STAGE1_CONFIG, stage1_ckpt),
                                              ('stage2', TWO_STAGE_CONFIG, stage2_ckpt))
                   for suffix, flags in (('', []), ('_tta', ['--tta']))]
    runner.run_all([Step(
        f'test {name}', [osp.join(TOOLS, 'test.py'), config, ckpt, *flags, '--work-dir',
                         osp.join(work_dir, f'test_{name}'), '--out',
                         osp.join(work_dir, f'{name}.json'), '--cfg-options', *common],
        osp.join(work_dir, f'test_{name}.log'), osp.join(work_dir, f'{name}.json'),
        title=None if i else _title(3, 'evaluating the stage 1 and stage 2 checkpoints, with '
                                    'and without flip TTA (tools/test.py [--tta])'))
        for i, (name, config, ckpt, flags) in enumerate(evaluations)])
    results = {name: read_metrics(osp.join(work_dir, f'{name}.json'))
               for name, _, _, _ in evaluations}

    results.update(_tau_plots_publish(runner, work_dir, stage1_ckpt, stage2_ckpt, common))
    (published, ) = published_files(osp.join(work_dir, 'digits_lt_two_stage'))
    print(f'    {published}: {osp.getsize(published) / 2**20:.1f} MiB '
          f'(training checkpoint {osp.getsize(stage2_ckpt) / 2**20:.1f} MiB)', flush=True)

    val_dir = osp.join(data_root, 'val')
    preds = {suffix: osp.join(work_dir, f'predictions{suffix}.csv') for suffix in ('', '_tta')}
    runner.run_all([Step(
        f'infer{suffix}', [osp.join(TOOLS, 'infer.py'), TWO_STAGE_CONFIG, published, val_dir,
                           *flags, '--out', preds[suffix], '--device', 'cpu'],
        osp.join(work_dir, f'infer{suffix}.log'), preds[suffix],
        title=None if suffix else _title(7, 'predicting the validation images with it '
                                         f'(tools/infer.py [--tta] {val_dir})'))
        for suffix, flags in (('', []), ('_tta', ['--tta']))])
    results['infer'] = {f'top1_error{suffix}': csv_top1_error(path)
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


def _tau_plots_publish(runner: StepRunner, work_dir: str, stage1_ckpt: str, stage2_ckpt: str,
                       common: List[str]) -> Dict[str, Dict[str, float]]:
    """Steps 4-6 side by side: tau-norm, the plots, the published checkpoint."""
    tau_dir = osp.join(work_dir, 'tau_norm')
    published_stem = osp.join(work_dir, 'digits_lt_two_stage')
    for old in published_files(published_stem):
        os.remove(old)
    runner.run_all([
        Step('tau-norm', [osp.join(TOOLS, 'tau_norm.py'), STAGE1_CONFIG, stage1_ckpt,
                          '--out-dir', tau_dir, '--device', 'cpu', '--cfg-options', *common],
             osp.join(work_dir, 'tau_norm.log'),
             title=_title(4, 'tau-normalising the stage-1 classifier (tools/tau_norm.py)')),
        Step('plot class sizes', [
            osp.join(TOOLS, 'analysis', 'plot_class_sizes.py'), STAGE1_CONFIG, '--out',
            osp.join(work_dir, 'class_sizes.png'), '--cfg-options', *common],
            osp.join(work_dir, 'plot_sizes.log'),
            title=_title(5, 'plotting class sizes and per-class accuracy (tools/analysis/)')),
        Step('plot per-class accuracy', [
            osp.join(TOOLS, 'analysis', 'plot_per_class_acc.py'),
            osp.join(work_dir, 'stage1_per_class.csv'), osp.join(work_dir, 'stage2_per_class.csv'),
            '--labels', 'stage 1 (instance-balanced)', 'stage 2 (class-balanced)', '--out',
            osp.join(work_dir, 'per_class_acc.png')], osp.join(work_dir, 'plot_acc.log')),
        Step('publish', [osp.join(TOOLS, 'publish_model.py'), stage2_ckpt,
                         published_stem + '.pth'], osp.join(work_dir, 'publish.log'),
             title=_title(6, 'publishing the final checkpoint (tools/publish_model.py)')),
    ])
    best = osp.join(tau_dir, 'best.json')
    return {'stage1_tau_norm': read_metrics(best)} if osp.isfile(best) else {}


def main() -> None:
    args = parse_args()
    if not args.no_pin:
        print('CPU settings pinned for the same figures on every machine: ' +
              ' '.join(f'{k}={v!r}' if not v else f'{k}={v}' for k, v in PINNED_ENV.items()),
              flush=True)
    start = time.time()
    e1, e2 = demo_epochs(args.stage1_epochs, args.stage2_epochs)
    results = run_demo(args.work_dir, args.data_root, args.seed, e1, e2, args.quiet,
                       not args.no_pin)
    print()
    print(format_table(results, args.seed, e1, e1 + e2))
    print(f'\nresults: {osp.join(args.work_dir, "results.json")}; plots: class_sizes.png, '
          f'per_class_acc.png in {args.work_dir} ({time.time() - start:.0f} s)')


if __name__ == '__main__':
    run_tool(main)
