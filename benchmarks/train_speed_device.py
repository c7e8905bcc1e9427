"""Device helpers of ``bench_train_speed.py``: syncs, peak memory, CUDA sync warnings, SGD alone.

- :func:`sgd_kwargs`: the config's SGD settings with a chosen implementation;
- :func:`sync`, :func:`peak`: wait for the device, its peak memory;
- :class:`CudaSyncWarnings`: record ``torch.cuda.set_sync_debug_mode('warn')`` warnings;
- :func:`print_sgd_steps`: the optimizer step alone, per SGD implementation.
"""
import warnings

import torch
from mmengine.config import Config


def sgd_kwargs(cfg: Config, impl: str) -> tuple:
    """(the config's SGD settings with ``impl``, the same as config overrides)."""
    impl_kw = {'default': {}, 'foreach': dict(foreach=True), 'fused': dict(fused=True),
               'for-loop': dict(foreach=False)}[impl]
    opt = {k: v for k, v in cfg.optim_wrapper.optimizer.items() if k != 'type'}
    return dict(opt, **impl_kw), impl_kw


def sync(device) -> None:
    """Wait for the device's queued work (CUDA); nothing on the CPU."""
    if device.type == 'cuda':
        torch.cuda.synchronize()


def peak(device) -> str:
    """Peak CUDA memory allocated, ``'-'`` on the CPU."""
    return f'{torch.cuda.max_memory_allocated() / 2**30:.2f} GiB' if device.type == 'cuda' \
        else '-'


class CudaSyncWarnings:
    """Record ``set_sync_debug_mode('warn')`` warnings on CUDA (a list), else give None."""

    def __init__(self, device) -> None:
        self.cuda = device.type == 'cuda'

    def __enter__(self):
        if not self.cuda:
            return None
        self._catch = warnings.catch_warnings(record=True)
        records = self._catch.__enter__()
        warnings.simplefilter('always')
        torch.cuda.set_sync_debug_mode('warn')
        return records

    def __exit__(self, *exc) -> None:
        if self.cuda:
            torch.cuda.set_sync_debug_mode('default')
            self._catch.__exit__(*exc)


def print_sgd_steps(args, cfg: Config, device: torch.device) -> None:
    """The optimizer step alone on the config's parameters (random gradients)."""
    from mmpretrain.registry import MODELS
    params = [p for p in MODELS.build(cfg.model).to(device).parameters()]
    for p in params:
        p.grad = torch.randn_like(p)
    count = sum(p.numel() for p in params)
    print(f'SGD step alone, {len(params)} tensors, {count / 1e6:.1f}M parameters '
          f'(momentum, weight decay as the config), best of {args.repeats} x {args.iters}:')
    for impl in ('default', 'foreach', 'fused', 'for-loop'):
        sgd, _ = sgd_kwargs(cfg, impl)
        try:
            optim = torch.optim.SGD(params, **sgd)
            optim.step()  # momentum buffers allocated
        except (RuntimeError, ValueError) as err:  # e.g. fused on a device without it
            print(f'  {impl:9s} not available: {err}')
            continue
        best = float('inf')
        for _ in range(args.repeats):
            sync(device)
            start = args.clock()
            for _ in range(args.iters):
                optim.step()
            sync(device)
            best = min(best, (args.clock() - start) / args.iters)
        print(f'  {impl:9s} {1000 * best:9.2f} ms per step')
