"""Train a model with MMEngine's Runner, with MMPretrain's command-line flags.

    python tools/train.py configs/aliprod/resnest50_stage1.py
    python tools/train.py CONFIG --resume            # latest checkpoint in the work dir
    python tools/train.py CONFIG --resume PATH.pth   # a given checkpoint
    bash tools/dist_train.sh CONFIG 8                # torchrun, one process per GPU
    python tools/train.py CONFIG --tensorboard       # also TensorBoard events (vis_data/)

Works from any current directory. On a machine without CUDA the ``pytorch`` launcher trains
with the gloo backend (see ``aliprod_plugins.engine.dist``).
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmengine.config import Config  # noqa: E402
from mmengine.device import (is_cuda_available, is_mlu_available, is_musa_available,  # noqa: E402
                             is_npu_available)
from mmengine.optim import AmpOptimWrapper  # noqa: E402
from mmengine.runner import Runner  # noqa: E402
from mmpretrain.registry import OPTIM_WRAPPERS  # noqa: E402

import aliprod_plugins  # noqa: E402,F401  registration and safe checkpoint loading
from aliprod_plugins.cli import (add_cfg_options_args, add_launcher_args,  # noqa: E402
                                 apply_cfg_options, check_annotations, check_config_file,
                                 parse_launcher_args, run_tool)
from aliprod_plugins.deploy.extras import MissingExtraError  # noqa: E402
from aliprod_plugins.apis import data_settings  # noqa: E402
from aliprod_plugins.engine import (setup_cpu_distributed, shutdown_loader_workers,  # noqa: E402
                                    teardown_distributed)
from aliprod_plugins.engine.checkpoint_match import (SKIP_KEY, check_checkpoint,  # noqa: E402
                                                     dataset_classes)
from aliprod_plugins.engine.finite_optim_wrapper import AMP_WRAPPER_OF  # noqa: E402
from aliprod_plugins.engine.resume import ResumeError, apply_resume  # noqa: E402
from aliprod_plugins.visualization import enable_tensorboard  # noqa: E402


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Train a classifier')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument(
        '--resume', nargs='?', type=str, const='auto',
        help='resume from the given checkpoint, or from the latest one in the work dir '
        'when no path is given')
    parser.add_argument('--amp', action='store_true', help='enable automatic mixed precision')
    parser.add_argument('--no-validate', action='store_true',
                        help='do not evaluate checkpoints during training')
    parser.add_argument('--auto-scale-lr', action='store_true',
                        help='scale the lr by total batch size / auto_scale_lr.base_batch_size')
    parser.add_argument('--no-pin-memory', action='store_true',
                        help='disable pin_memory in all dataloaders')
    parser.add_argument('--no-persistent-workers', action='store_true',
                        help='disable persistent_workers in all dataloaders')
    parser.add_argument('--tensorboard', action='store_true',
                        help='also write TensorBoard events (loss, lr, metrics) to '
                        '<work dir>/<timestamp>/vis_data; needs the [deploy] extra')
    add_cfg_options_args(parser, 'train_dataloader.dataset.data_root=data/aliproducts '
                         'train_cfg.max_epochs=2')
    add_launcher_args(parser)
    data_settings.add_data_args(parser)
    return parse_launcher_args(parser)


def merge_args(cfg: Config, args: argparse.Namespace) -> Config:
    """Apply the command-line flags to the config."""
    cfg.launcher = args.launcher

    # work_dir priority: CLI > config > ./work_dirs/<config name>
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(args.config))[0])

    if args.amp:
        wrapper = cfg.optim_wrapper.get('type', 'OptimWrapper')
        if wrapper not in AMP_WRAPPER_OF:
            raise ValueError(f'--amp expects optim_wrapper.type in {sorted(AMP_WRAPPER_OF)}, '
                             f'got {wrapper!r}')
        cfg.optim_wrapper.type = AMP_WRAPPER_OF[wrapper]  # FiniteOptimWrapper keeps its checks
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')

    if args.auto_scale_lr:
        if 'auto_scale_lr' not in cfg:
            raise ValueError('--auto-scale-lr expects `auto_scale_lr = dict(base_batch_size=N)` '
                             f'in the config, got none in {args.config}')
        # a config that sets enable=False itself has an absolute lr (the stage-2 configs'
        # 1e-4): the flag leaves it alone, as the README says
        if cfg.auto_scale_lr.get('enable', None) is not False:
            cfg.auto_scale_lr.enable = True
        else:
            print(f'--auto-scale-lr: {args.config} sets auto_scale_lr.enable=False (an absolute '
                  'lr), so its lr is not scaled', flush=True)

    for split in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        loader = cfg.get(split)
        if loader is None:
            continue
        if args.no_pin_memory:
            loader['pin_memory'] = False
        if args.no_persistent_workers:
            loader['persistent_workers'] = False

    apply_cfg_options(cfg, args)  # test_* follows val_* options where the config ties them
    data_settings.apply_data_settings(cfg, getattr(args, 'data_root', None),
                                      getattr(args, 'num_classes', None), args.cfg_options)
    data_settings.resolve_data_roots(cfg)  # relative to the repository, not the current dir
    if getattr(args, 'tensorboard', False):
        enable_tensorboard(cfg)
    # after --cfg-options, so that overrides of val_* cannot leave half a validation loop
    if args.no_validate:
        cfg.val_cfg = None
        cfg.val_dataloader = None
        cfg.val_evaluator = None
    check_amp_device(cfg)
    return cfg


def check_amp_device(cfg: Config) -> None:
    """Stop with our message where MMEngine's ``AmpOptimWrapper`` would assert (no GPU).

    MMEngine's AMP wrappers (and ours, which subclass them) run on cuda, npu, mlu or musa only;
    on a CPU-only machine ``--amp`` or a mixed-precision config is refused before anything is
    built. (``tools/test.py --amp`` does run on CPU, with bf16 autocast.)
    """
    name = (cfg.get('optim_wrapper') or {}).get('type', 'OptimWrapper')
    wrapper = OPTIM_WRAPPERS.get(name) if isinstance(name, str) else name
    if not (isinstance(wrapper, type) and issubclass(wrapper, AmpOptimWrapper)):
        return
    if is_cuda_available() or is_npu_available() or is_mlu_available() or is_musa_available():
        return
    raise ValueError(f'--amp (optim_wrapper.type={getattr(wrapper, "__name__", name)}) expects a '
                     'GPU (MMEngine\'s AmpOptimWrapper trains on cuda, npu, mlu or musa), got a '
                     'machine without one: train in fp32 on CPU without --amp (and with a '
                     'config whose optim_wrapper is not an AMP one)')


def main() -> None:
    args = parse_args()
    check_config_file(args.config)
    cfg = Config.fromfile(args.config)
    try:
        cfg = merge_args(cfg, args)
    except (ValueError, MissingExtraError) as err:  # a bad flag or option: no traceback
        sys.exit(f'tools/train.py: error: {err}')
    try:  # --resume: verify the checkpoint, or fall back to the newest one that loads
        resume = apply_resume(cfg, args.resume)
    except ResumeError as err:
        sys.exit(f'tools/train.py: error: --resume: {err}')
    if cfg.get('load_from'):  # before the Runner prints its environment; resume: no skips
        resumed = bool(cfg.get('resume'))
        check_checkpoint(cfg, cfg.load_from, '--resume' if resumed else 'load_from',
                         classes=dataset_classes(cfg, 'train_dataloader'),
                         skip=() if resumed else cfg.get(SKIP_KEY) or ())
    loaders = [k for k in ('train_dataloader', 'val_dataloader') if cfg.get(k)]
    check_annotations(cfg, loaders)
    # a missing data folder stops here, before the runner makes a work dir
    data_settings.check_data_roots(cfg, loaders)
    setup_cpu_distributed(cfg, args.launcher)
    runner = Runner.from_cfg(cfg)
    resume.log(runner.logger)
    try:
        runner.train()
    finally:  # also on preemption (exit 75): workers stop now, not 5 s each at exit
        shutdown_loader_workers(runner)
    teardown_distributed()


if __name__ == '__main__':
    run_tool(main)
