"""The pieces ``bench_train_speed.py`` times: a bare train step and whole runners.

- :func:`bare_step`: the config's model and a plain SGD step on one fixed batch already on
  the device (no runner, no data loading, no hooks);
- :func:`build_runner`: the ``tools/train.py`` path (``merge_args``, ``apply_resume``,
  ``Runner.from_cfg``) with every hook of the config, our loop, sampler and optimizer wrapper,
  or with MMEngine's stock parts instead (``EpochBasedTrainLoop``, ``DefaultSampler``,
  ``OptimWrapper``, ``CheckpointHook``, no custom hooks) on the same model and data.

Synthetic data is an AliProducts annotation with no image files (``check_files='off'``)
and a pipeline whose first transform returns one fixed uint8 image of the crop size, so the
runner loads, collates and preprocesses the same inputs the bare step uses.
"""
import argparse
import json
import os.path as osp
import sys
import time
from typing import Callable, Optional

import numpy as np
import torch
from mmengine.config import Config
from mmengine.hooks import Hook
from mmpretrain.registry import MODELS, TRANSFORMS
from mmpretrain.structures import DataSample

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, osp.join(REPO, 'tools'))

import train as train_tool  # noqa: E402  tools/train.py

from aliprod_plugins.engine.resume import apply_resume  # noqa: E402


@TRANSFORMS.register_module()
class BenchFixedImage:
    """Return one fixed random image (no file read): the synthetic input of the benchmark.

    Args:
        size (int): Height and width. Defaults to 112.
    """

    def __init__(self, size: int = 112) -> None:
        self.img = np.random.default_rng(0).integers(0, 256, (size, size, 3), dtype=np.uint8)

    def __call__(self, results: dict) -> dict:
        results['img'] = self.img
        results['img_shape'] = results['ori_shape'] = self.img.shape[:2]
        return results


def crop_size(cfg: Config) -> int:
    """The train pipeline's crop (``RandomResizedCrop`` or our fused crop), in pixels."""
    for t in cfg.train_dataloader.dataset.pipeline:
        if 'scale' in t and 'Crop' in t['type']:
            scale = t['scale']
            return int(scale if isinstance(scale, int) else scale[0])
    raise ValueError(f'expected a RandomResizedCrop in {cfg.filename}\'s train pipeline, got '
                     f'{[t["type"] for t in cfg.train_dataloader.dataset.pipeline]}')


def write_annotation(root: str, num_images: int, num_classes: int, seed: int = 0) -> None:
    """``root/train.json`` of ``num_images`` entries with labels drawn uniformly."""
    labels = np.random.default_rng(seed).integers(0, num_classes, num_images)
    with open(osp.join(root, 'train.json'), 'w') as f:
        json.dump({'images': [{'class_id': f'{c:05d}', 'image_id': f'{i}.jpg'}
                              for i, c in enumerate(labels.tolist())]}, f)


def bare_step(cfg: Config, batch: int, device: torch.device, amp: str, compile_: bool,
              channels_last: bool, sgd: dict) -> Callable[[], None]:
    """One train step of the config's model on a fixed batch: forward, backward, SGD."""
    model = MODELS.build(cfg.model).to(device).train()
    size = crop_size(cfg)
    inputs = torch.randn(batch, 3, size, size, device=device)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
        inputs = inputs.contiguous(memory_format=torch.channels_last)
    labels = torch.randint(0, cfg.model.head.num_classes, (batch, ))
    samples = [DataSample().set_gt_label(int(label)).to(device) for label in labels]
    optim = torch.optim.SGD(model.parameters(), **sgd)
    forward = torch.compile(model) if compile_ else model
    dtype = {'bf16': torch.bfloat16, 'fp16': torch.float16}.get(amp)
    scaler = torch.amp.GradScaler(device.type, enabled=amp == 'fp16')

    def step() -> None:
        with torch.autocast(device.type, dtype=dtype or torch.float32, enabled=dtype is not None):
            loss = sum(forward(inputs, samples, mode='loss').values())
        optim.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.step(optim)
        scaler.update()

    return step


class IterWindow(Hook):
    """Times iterations ``[begin, end)`` of a run, from ``before_train_iter`` to ``before_...``.

    Args:
        begin (int): First timed iteration (after warm-up).
        end (int): The iteration whose start closes the window.
        probe: A ``HostSyncProbe`` reset at the window's start and read at its end.
        cuda_syncs (list, optional): Warnings recorded by ``set_sync_debug_mode``; its length
            is read at both ends.
        clock (callable): ``time.perf_counter`` (wall clock) or ``time.process_time`` (this
            process's CPU time). Defaults to ``time.perf_counter``.
    """

    priority = 'VERY_HIGH'

    def __init__(self, begin: int, end: int, probe, cuda_syncs: Optional[list] = None,
                 clock=time.perf_counter) -> None:
        self.begin, self.end, self.probe, self.cuda_syncs = begin, end, probe, cuda_syncs
        self.clock = clock
        self.seconds = self.syncs = self.ours = self.cuda_count = None
        self.origins: dict = {}

    def before_train_iter(self, runner, batch_idx: int, data_batch=None) -> None:
        if runner.iter not in (self.begin, self.end):
            return
        n_cuda = len(self.cuda_syncs) if self.cuda_syncs is not None else 0  # before ours
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        now = self.clock()
        if runner.iter == self.begin:
            n_cuda = len(self.cuda_syncs) if self.cuda_syncs is not None else 0
            self._start, self._cuda0 = now, n_cuda
            self.probe.reset()
            if torch.cuda.is_available():
                torch.cuda.reset_peak_memory_stats()
            return
        self.seconds = now - self._start
        self.syncs, self.ours = self.probe.total, self.probe.count_under('aliprod_plugins')
        self.origins = self.probe.by_origin()
        self.cuda_count = n_cuda - self._cuda0


class _ChannelsLast(Hook):
    def before_train(self, runner) -> None:
        runner.model.to(memory_format=torch.channels_last)


def build_runner(config: str, root: str, work_dir: str, batch: int, iters: int, *,
                 stock: bool, amp: str, compile_: bool, channels_last: bool, sgd_impl: dict,
                 workers: int, pack: Optional[str], name: str):
    """A runner of ``iters`` iterations (one epoch), built as ``tools/train.py`` builds it."""
    opts = {'train_dataloader.batch_size': batch, 'train_dataloader.num_workers': workers,
            'train_dataloader.persistent_workers': workers > 0,
            'train_dataloader.dataset.data_root': root, 'train_cfg.max_epochs': 1,
            'default_hooks.checkpoint.interval': 1, 'randomness.seed': 0}
    if pack is None:
        cfg = Config.fromfile(config)
        opts.update({'train_dataloader.dataset.check_files': 'off',
                     'train_dataloader.dataset.lmdb': None,
                     'train_dataloader.dataset.max_per_class': None,
                     'train_dataloader.dataset.pipeline': [
                         dict(type='BenchFixedImage', size=crop_size(cfg)),
                         dict(type='PackInputs')]})
    else:
        opts['train_dataloader.dataset.lmdb'] = pack
    for key, value in sgd_impl.items():
        opts[f'optim_wrapper.optimizer.{key}'] = value
    if amp != 'none':
        opts['optim_wrapper.type'] = 'AmpOptimWrapper' if stock else 'FiniteAmpOptimWrapper'
        opts.update({'optim_wrapper.dtype': 'bfloat16'} if amp == 'bf16' else
                    {'optim_wrapper.loss_scale': 'dynamic'})
    if stock:
        opts.update({'train_cfg.type': 'EpochBasedTrainLoop',
                     'train_dataloader.sampler': dict(type='DefaultSampler', shuffle=True),
                     'default_hooks.checkpoint.type': 'CheckpointHook'})
        if amp == 'none':
            opts['optim_wrapper.type'] = 'OptimWrapper'
    args = argparse.Namespace(
        config=config, work_dir=work_dir, amp=False, no_validate=True, auto_scale_lr=False,
        no_pin_memory=False, no_persistent_workers=False, launcher='none', resume=None,
        cfg_options=opts)
    cfg = train_tool.merge_args(Config.fromfile(config), args)
    if stock:
        cfg.custom_hooks = []
    cfg.compile = compile_
    cfg.experiment_name = name
    cfg.log_level = 'WARNING'
    resume = apply_resume(cfg, None)
    from mmengine.runner import Runner
    runner = Runner.from_cfg(cfg)
    resume.log(runner.logger)
    if channels_last:
        runner.register_hook(_ChannelsLast())
    return runner
