"""Evaluate a checkpoint with MMEngine's Runner, with MMPretrain's command-line flags.

    python tools/test.py configs/aliprod/resnest50_stage1.py work_dirs/.../epoch_40.pth
    python tools/test.py CONFIG CKPT --out results/stage1.json   # + stage1_per_class.csv
    python tools/test.py CONFIG CKPT --split test --submission submission.csv
    python tools/test.py CONFIG CKPT --tta     # average the image's and its mirror's scores
    bash tools/dist_test.sh CONFIG CHECKPOINT 8

Prints a table of the metrics (``LongTailAccuracy``: top-1/5, mean class error, shot groups).
``--out FILE.json`` writes the metrics as JSON and ``FILE_per_class.csv``
(``class_id,train_count,eval_count,top1_acc``). ``--submission FILE.csv`` writes the challenge
file ``id,predicted``; on an unlabelled split (``--split test``) it is the only output. The
training class counts of the shot groups come from ``train_dataloader.dataset`` of the config
(``TrainCountsHook``, added when missing) unless ``--class-counts FILE.npy`` is given.
``--tta`` wraps the model in the config's ``tta_model`` (MMPretrain's ``AverageClsScoreTTA``)
and tests with its ``tta_pipeline``, as MMPretrain's ``tools/test.py --tta``.
Checkpoints load with ``weights_only=True`` (see ``aliprod_plugins.engine.checkpoint``).
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmengine.config import Config  # noqa: E402
from mmengine.evaluator import Evaluator  # noqa: E402
from mmengine.runner import Runner  # noqa: E402

import aliprod_plugins  # noqa: E402,F401  registration and safe checkpoint loading
from aliprod_plugins.apis import apply_tta  # noqa: E402
from aliprod_plugins.cli import (add_cfg_options_args, add_launcher_args,  # noqa: E402
                                 apply_cfg_options, check_annotations, check_config_file,
                                 parse_launcher_args, run_tool)
from aliprod_plugins.apis import data_settings  # noqa: E402
from aliprod_plugins.engine import (setup_cpu_distributed, shutdown_loader_workers,  # noqa: E402
                                    teardown_distributed)
from aliprod_plugins.engine.checkpoint_match import check_checkpoint, dataset_classes  # noqa: E402
from aliprod_plugins.evaluation import reports  # noqa: E402
from aliprod_plugins.evaluation import LongTailAccuracy, SubmissionWriter  # noqa: E402


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Evaluate a checkpoint')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='the dir to save the evaluation logs')
    parser.add_argument('--out', help='write the metrics to this .json file and the per-class '
                        'results to <name>_per_class.csv beside it')
    parser.add_argument('--submission', help='write the challenge submission (id,predicted) '
                        'to this .csv file')
    parser.add_argument('--split', help='evaluate this split of the test dataset instead, e.g. '
                        'test for the unlabelled challenge images (default: the config\'s)')
    parser.add_argument('--class-counts', help='.npy file of training images per class for the '
                        'shot groups (default: counted from train_dataloader.dataset)')
    add_cfg_options_args(parser, 'test_dataloader.dataset.data_root=data/aliproducts')
    parser.add_argument('--amp', action='store_true', help='enable automatic mixed precision')
    parser.add_argument('--tta', action='store_true', help='test-time augmentation: the '
                        "config's tta_model over its tta_pipeline (flip: scores averaged)")
    add_launcher_args(parser)
    data_settings.add_data_args(parser)
    return parse_launcher_args(parser)


def merge_args(cfg: Config, args: argparse.Namespace) -> Config:
    """Apply the command-line flags to the config."""
    for flag, path, ext in (('--out', args.out, '.json'),
                            ('--submission', args.submission, '.csv')):
        if path is not None and not path.endswith(ext):
            raise ValueError(f'{flag} expects a path ending in {ext}, got {path!r}')
    cfg.launcher = args.launcher
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(args.config))[0])
    cfg.load_from = args.checkpoint
    cfg.resume = False
    if args.amp:
        cfg.test_cfg = dict(cfg.get('test_cfg') or {}, fp16=True)
    apply_cfg_options(cfg, args)  # test_* follows val_* options where the config ties them
    data_settings.apply_data_settings(cfg, getattr(args, 'data_root', None),
                                      getattr(args, 'num_classes', None), args.cfg_options)
    data_settings.resolve_data_roots(cfg)  # relative to the repository, not the current dir
    if args.split is not None:
        cfg.test_dataloader.dataset.split = args.split
    if args.tta:
        apply_tta(cfg)
    long_tail = [m for m in _metric_cfgs(cfg.get('test_evaluator'))
                 if m.get('type') in ('LongTailAccuracy', LongTailAccuracy)]
    if args.class_counts is not None:
        for metric in long_tail:
            metric['class_counts'] = args.class_counts
    hooks = list(cfg.get('custom_hooks') or [])
    if long_tail and not any(h.get('type') == 'TrainCountsHook' for h in hooks):
        cfg.custom_hooks = hooks + [dict(type='TrainCountsHook')]
    return cfg


def set_up_evaluator(runner: Runner, submission: str = None) -> None:
    """Add the submission writer; on an unlabelled split keep only it."""
    loop = runner.test_loop  # builds the test dataloader and evaluator
    dataset = loop.dataloader.dataset
    metrics = list(loop.evaluator.metrics)
    if not _has_labels(dataset):
        if submission is None:
            raise ValueError(f'the test split of {type(dataset).__name__} has no labels: pass '
                             '--submission FILE.csv to write its predictions')
        metrics = []
    if submission is not None:
        metrics.append(SubmissionWriter(out_file=submission))
    loop.evaluator = Evaluator(metrics)
    loop.evaluator.dataset_meta = getattr(dataset, 'metainfo', None)


def report(runner: Runner, metrics: dict, args: argparse.Namespace) -> None:
    """Print the metrics table and write the ``--out`` files (rank 0 only)."""
    if runner.rank != 0:
        return
    print(reports.format_metrics_table(metrics), flush=True)
    if args.out is None:
        return
    reports.dump_metrics_json(args.out, metrics)
    written = [args.out]
    for metric in runner.test_evaluator.metrics:
        if isinstance(metric, LongTailAccuracy) and metric.per_class is not None:
            classes = (metric.dataset_meta or {}).get('classes')
            csv_path = reports.per_class_csv_path(args.out)
            reports.write_per_class_csv(csv_path, metric.per_class, classes)
            written.append(csv_path)
            break
    print(f'written: {", ".join(written)}', flush=True)


def _metric_cfgs(evaluator_cfg) -> list:
    if evaluator_cfg is None:
        return []
    if isinstance(evaluator_cfg, dict) and 'metrics' in evaluator_cfg:
        evaluator_cfg = evaluator_cfg['metrics']
    cfgs = evaluator_cfg if isinstance(evaluator_cfg, (list, tuple)) else [evaluator_cfg]
    return [c for c in cfgs if isinstance(c, dict)]


def _has_labels(dataset) -> bool:
    has_labels = getattr(dataset, 'has_labels', None)
    if has_labels is not None:
        return bool(has_labels)
    return len(dataset) == 0 or 'gt_label' in dataset.get_data_info(0)


def main() -> None:
    args = parse_args()
    check_config_file(args.config)
    cfg = merge_args(Config.fromfile(args.config), args)
    # before the Runner prints its environment or makes a work dir: refuse a checkpoint of
    # another model or class set, a missing annotation or data folder
    check_checkpoint(cfg, args.checkpoint, classes=dataset_classes(cfg, 'test_dataloader'))
    check_annotations(cfg, ['test_dataloader'])
    data_settings.check_data_roots(cfg, ('test_dataloader', ))
    setup_cpu_distributed(cfg, args.launcher)
    runner = Runner.from_cfg(cfg)
    set_up_evaluator(runner, args.submission)
    try:
        metrics = runner.test()
    finally:  # workers stop now, not 5 s each at exit
        shutdown_loader_workers(runner)
    report(runner, metrics, args)
    teardown_distributed()


if __name__ == '__main__':
    run_tool(main)
