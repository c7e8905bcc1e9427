"""Training speed: the bare train step vs the whole runner, per batch size, and host syncs.

For each batch size, on the same model and inputs:

(a) bare step: the config's model, forward + backward + SGD step on a fixed batch on the
    device (``train_speed_parts.bare_step``);
(b) runner: the ``tools/train.py`` path with every hook of the config, our loop, sampler and
    optimizer wrapper (data loaded, collated and preprocessed by the runner);
(c) CPU only: the same runner with MMEngine's stock loop, sampler, optimizer wrapper and
    checkpoint hook (the CPU guard: ours >= 0.9x stock).

Printed: img/s, ms per iteration, the runner's share of the bare step, peak device memory,
and host syncs per iteration (CUDA: ``torch.cuda.set_sync_debug_mode('warn')`` warnings;
every device: a probe counting ``Tensor.item / tolist / __bool__ / __float__ / __int__`` calls
in the timed iterations, with the share from our code; off with ``--compile``, whose tracer
the probe would disturb). On CPU with one thread and no loader
workers the times are this process's CPU time (robust to other processes on shared cores),
else the wall clock. Runners alternate with the stock
ones and the best of ``--repeats`` counts. Then an ESTIMATE table (arithmetic on the measured
speed, not a measurement): hours for the recipe (40 + 10 epochs) on the capped training set.

Usage::

    python benchmarks/bench_train_speed.py --device cpu      # demo model, ~1 min on 2 cores
    python benchmarks/bench_train_speed.py --device cuda --amp bf16 \\
        --batch-sizes 64 128 256 512 [--compile] [--data pack data/aliproducts]
"""
import argparse
import os
import os.path as osp
import shutil
import sys
import tempfile
import time

import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
from train_speed_device import (CudaSyncWarnings, peak, print_sgd_steps,  # noqa: E402
                                sgd_kwargs, sync)
from train_speed_parts import (REPO, IterWindow, bare_step, build_runner,  # noqa: E402
                               write_annotation)
from train_speed_report import (CAPPED_TRAIN_IMAGES, print_batch,  # noqa: E402
                                print_estimate)

import aliprod_plugins  # noqa: E402,F401  registration only
from aliprod_plugins.engine import shutdown_loader_workers  # noqa: E402
from aliprod_plugins.testing.host_syncs import HostSyncProbe  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    run = parser.add_argument_group('what runs')
    run.add_argument('--device', choices=['cuda', 'cpu'],
                     default='cuda' if torch.cuda.is_available() else 'cpu',
                     help='(default: cuda when available, else cpu)')
    run.add_argument('--config', help='(default: configs/aliprod/resnest50_stage1.py on cuda, '
                     'configs/demo/digits_lt_stage1.py on cpu)')
    run.add_argument('--batch-sizes', type=int, nargs='+',
                     help='(default: 64 128 256 512 on cuda, 32 64 on cpu)')
    run.add_argument('--iters', type=int, help='timed iterations (default: 50 cuda, 20 cpu)')
    run.add_argument('--warmup', type=int, help='(default: 10 cuda, 3 cpu; 20 with --compile)')
    run.add_argument('--repeats', type=int, default=3, help='alternating runs (default: 3)')
    for flag, text in (
            ('--skip-stock', 'on cpu, skip the MMEngine stock runner (the CPU guard)'),
            ('--bare-only', 'time the bare step only (for comparing speed settings)'),
            ('--sgd-step', 'only time the optimizer step alone on the config\'s parameters, '
             'for each SGD implementation (default, foreach, fused, for-loop)')):
        run.add_argument(flag, action='store_true', help=text)
    run.add_argument('--data', nargs='+', default=['synthetic'], metavar='synthetic|pack DIR',
                     help='synthetic, or "pack ROOT": a data root with train.json and its '
                     'pack at ROOT/packs/train (default: synthetic)')
    run.add_argument('--workers', type=int, help='DataLoader workers (default: 0 cpu, 8 cuda)')
    run.add_argument('--threads', type=int,
                     help='torch CPU threads (default: 1 on cpu: on shared cores more threads '
                     'spin against other processes, 10x slower at a load of 10; torch\'s '
                     'default on cuda)')
    speed = parser.add_argument_group('speed settings')
    speed.add_argument('--amp', choices=['bf16', 'fp16', 'none'], default='none',
                       help='(default: none)')
    speed.add_argument('--compile', action='store_true', help='torch.compile / cfg.compile')
    speed.add_argument('--channels-last', action='store_true', help='(default: NCHW)')
    speed.add_argument('--sgd-impl', choices=['default', 'foreach', 'fused', 'for-loop'],
                       default='default', help="torch's SGD implementation (default: default)")
    speed.add_argument('--train-images', type=int, default=CAPPED_TRAIN_IMAGES,
                       help=f'for the estimate (default: {CAPPED_TRAIN_IMAGES:,}, see '
                       'train_speed_report.py)')
    args = parser.parse_args(argv)
    cuda = args.device == 'cuda'
    if cuda and not torch.cuda.is_available():
        parser.error('--device cuda expects a CUDA device, got none')
    if not cuda and args.amp != 'none':
        parser.error(f'--amp {args.amp} expects --device cuda (MMEngine\'s AMP wrappers train '
                     'on GPUs only), got --device cpu')
    if args.data[0] not in ('synthetic', 'pack') or (args.data[0] == 'pack') != (
            len(args.data) == 2) or len(args.data) > 2:
        parser.error(f'--data expects "synthetic" or "pack DIR", got {" ".join(args.data)!r}')
    args.config = args.config or osp.join(REPO, 'configs', *(
        ('aliprod', 'resnest50_stage1.py') if cuda else ('demo', 'digits_lt_stage1.py')))
    args.batch_sizes = args.batch_sizes or ([64, 128, 256, 512] if cuda else [32, 64])
    args.iters = args.iters or (50 if cuda else 20)
    args.warmup = args.warmup or (20 if args.compile else 10 if cuda else 3)
    args.workers = args.workers if args.workers is not None else (8 if cuda else 0)
    if args.threads is None and not cuda:
        args.threads = 1
    # one thread, no workers: this process's CPU time is the work done, whatever the load
    # from other processes (the wall clock also counts the waits for a core)
    args.cpu_time = not cuda and args.threads == 1 and args.workers == 0
    args.clock = time.process_time if args.cpu_time else time.perf_counter
    return args


def time_bare(args, cfg, batch: int, device: torch.device) -> dict:
    sgd, _ = sgd_kwargs(cfg, args.sgd_impl)
    step = bare_step(cfg, batch, device, args.amp, args.compile, args.channels_last, sgd)
    for _ in range(args.warmup):
        step()
    best = float('inf')
    for _ in range(args.repeats):
        sync(device)
        if device.type == 'cuda':
            torch.cuda.reset_peak_memory_stats()
        probe = HostSyncProbe(REPO, enabled=not args.compile)
        with probe, CudaSyncWarnings(device) as cuda_syncs:
            start = args.clock()
            for _ in range(args.iters):
                step()
            sync(device)
            best = min(best, args.clock() - start)
    return dict(seconds=best, syncs=probe.total / args.iters, ours=0.0,
                cuda=len(cuda_syncs) / args.iters if cuda_syncs is not None else None,
                memory=peak(device))


def time_runner(args, root: str, batch: int, stock: bool, name: str, device) -> dict:
    total = args.warmup + args.iters + 1  # the last iteration's start closes the window
    if args.data[0] == 'synthetic':
        cfg = Config.fromfile(args.config)
        write_annotation(root, total * batch, cfg.model.head.num_classes)
    work_dir = tempfile.mkdtemp(prefix='bench_train_speed_')
    _, impl_kw = sgd_kwargs(Config.fromfile(args.config), args.sgd_impl)
    try:
        runner = build_runner(
            args.config, root, work_dir, batch, total, stock=stock, amp=args.amp,
            compile_=args.compile, channels_last=args.channels_last, sgd_impl=impl_kw,
            workers=args.workers, pack=osp.join(root, 'packs', 'train')
            if args.data[0] == 'pack' else None, name=name)
        if len(runner.train_dataloader) < total:
            raise ValueError(f'--data {" ".join(args.data)}: expected at least {total * batch} '
                             f'training images for {total} iterations of {batch}, got '
                             f'{len(runner.train_dataloader.dataset)}')
        probe = HostSyncProbe(REPO, enabled=not args.compile)
        with probe, CudaSyncWarnings(device) as cuda_syncs:
            window = IterWindow(args.warmup, args.warmup + args.iters, probe, cuda_syncs,
                                args.clock)
            runner.register_hook(window)
            try:
                runner.train()
            finally:  # persistent workers would outlive the runner
                shutdown_loader_workers(runner)
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)
    return dict(seconds=window.seconds, syncs=window.syncs / args.iters,
                ours=window.ours / args.iters, origins=window.origins,
                cuda=window.cuda_count / args.iters if cuda_syncs is not None else None,
                memory=peak(device))


def main(argv=None) -> None:
    args = parse_args(argv)
    device = torch.device(args.device)
    if args.threads:
        torch.set_num_threads(args.threads)
    init_default_scope('mmpretrain')
    cfg = Config.fromfile(args.config)
    settings = (f'amp {args.amp}, compile {args.compile}, channels-last {args.channels_last}, '
                f'SGD {args.sgd_impl}, {args.workers} loader workers, data {" ".join(args.data)}')
    name = torch.cuda.get_device_name() if device.type == 'cuda' else \
        f'CPU, {torch.get_num_threads()} threads'
    clock = 'CPU time of this process' if args.cpu_time else 'wall clock'
    print(f'bench_train_speed: {osp.relpath(args.config, REPO)} on {name}; {settings}; '
          f'{args.iters} timed iterations after {args.warmup}, best of {args.repeats}, '
          f'{clock}; load average {os.getloadavg()[0]:.1f}', flush=True)
    if args.sgd_step:
        return print_sgd_steps(args, cfg, device)
    rows = []
    root = osp.abspath(args.data[1]) if args.data[0] == 'pack' else tempfile.mkdtemp()
    try:
        for batch in args.batch_sizes:
            bare = time_bare(args, cfg, batch, device)
            runs = {'ours': [], 'stock': []}
            kinds = ['ours', 'stock'] if device.type == 'cpu' and not args.skip_stock \
                else ['ours']
            kinds = [] if args.bare_only else kinds
            for r in range(args.repeats):
                for kind in (kinds if r % 2 == 0 else kinds[::-1]):
                    runs[kind].append(time_runner(args, root, batch, kind == 'stock',
                                                  f'bench_{kind}_{batch}_{r}', device))
            best = {k: min(v, key=lambda x: x['seconds']) for k, v in runs.items() if v}
            rows.append((batch, bare, best))
            print_batch(args, batch, bare, best)
    finally:
        if args.data[0] == 'synthetic':
            shutil.rmtree(root, ignore_errors=True)
    print_estimate(args, rows, name)


if __name__ == '__main__':
    main()
