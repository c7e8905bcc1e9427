"""What :class:`StageSwitchHook` does to the model and the optimizer at the switch.

The stage-2 learning rate (LR schedulers stopped), the frozen backbone and neck (the DDP
wrapper rebuilt without them), the re-initialised head (its optimizer state dropped).
"""
from typing import Iterator, List, Optional, Tuple

import torch
from mmengine.dist import broadcast, get_world_size
from mmengine.optim import OptimWrapperDict
from torch import nn
from torch.nn.parallel import DistributedDataParallel


def set_stage2_lr(runner, lr: Optional[float], lr_mult: Optional[float],
                  apply_mult: bool) -> str:
    """Set every parameter group's LR (``lr``, or times ``lr_mult``); stop the LR schedulers.

    Args:
        runner (Runner): The running runner.
        lr (float, optional): Absolute learning rate.
        lr_mult (float, optional): Multiplier of the current learning rates.
        apply_mult (bool): Whether to apply ``lr_mult`` (not again in a run resumed after the
            switch, whose optimizer state already holds it).

    Returns:
        str: What changed, for the hook's log line.
    """
    groups = [g for w in optim_wrappers(runner.optim_wrapper)
              for g in w.optimizer.param_groups]
    before = sorted({g['lr'] for g in groups})
    if lr is not None or apply_mult:
        for group in groups:
            group['lr'] = lr if lr is not None else group['lr'] * lr_mult
    stopped = 0
    for scheduler in schedulers(runner.param_schedulers):
        if getattr(scheduler, 'param_name', None) == 'lr':
            scheduler.end = scheduler.begin  # an empty range: step() no longer sets the LR
            stopped += 1
    after = sorted({g['lr'] for g in groups})
    return (f'lr {fmt(before)} -> {fmt(after)} on {len(groups)} param group(s), '
            f'{stopped} LR scheduler(s) stopped')


def freeze_parts(runner, model: nn.Module) -> Tuple[List[nn.Module], str]:
    """Freeze ``model``'s backbone and neck (no gradients, eval mode) and rebuild DDP without.

    Args:
        runner (Runner): The running runner (``runner.model`` may be replaced).
        model (nn.Module): The unwrapped model.

    Returns:
        tuple: ``(frozen modules, what changed)``; the modules must be put back in eval mode
        after every ``model.train()``.
    """
    frozen = [m for m in (model.backbone, getattr(model, 'neck', None))
              if isinstance(m, nn.Module)]
    num = newly = 0
    for module in frozen:
        for param in module.parameters():
            newly += param.numel() if param.requires_grad else 0
            param.requires_grad_(False)
            param.grad = None
            num += param.numel()
        module.eval()
    names = '+'.join(n for n in ('backbone', 'neck')
                     if isinstance(getattr(model, n, None), nn.Module))
    ddp = ''
    if newly and isinstance(runner.model, DistributedDataParallel):
        runner.model = rewrap_ddp(runner.model)
        ddp = '; DDP wrapper rebuilt without them'
    return frozen, f'froze {names} ({num} parameters, BatchNorm in eval mode{ddp})'


def reinit_head(runner, head: nn.Module, seed: int) -> str:
    """Re-initialise ``head`` from ``seed`` (the same on every rank) and drop its optimizer state.

    Args:
        runner (Runner): The running runner.
        head (nn.Module): The head to re-initialise.
        seed (int): Seed of the re-initialisation (a function of the run's seed, so a run
            resumed before the switch draws the same head whatever the global RNG went
            through).

    Returns:
        str: What changed, for the hook's log line.
    """
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        for module in head.modules():
            if hasattr(module, 'reset_parameters'):
                module.reset_parameters()
            if hasattr(module, '_is_init'):
                module._is_init = False  # else BaseModule.init_weights() is a no-op
        if hasattr(head, 'init_weights'):
            head.init_weights()
    params = list(head.parameters())
    if get_world_size() > 1:
        for tensor in params + list(head.buffers()):
            broadcast(tensor.data, 0)
    for wrapper in optim_wrappers(runner.optim_wrapper):
        for param in params:
            wrapper.optimizer.state.pop(param, None)
    return (f're-initialised {type(head).__name__} ({sum(p.numel() for p in params)} '
            'parameters, optimizer state dropped)')


def rewrap_ddp(wrapper: DistributedDataParallel) -> DistributedDataParallel:
    """Wrap ``wrapper.module`` again with the same settings, so that parameters frozen since
    the wrapper was built leave its reducer.

    DDP registers the parameters that require gradients when it is built; a backbone frozen
    afterwards stays in its buckets (all-reduced as zeros every step, and walked by
    ``find_unused_parameters``). A new wrapper registers only what is trainable now. Every
    rank must call this at the same point (the constructor broadcasts rank 0's module state).
    Communication hooks registered on the old wrapper are not carried over.

    Args:
        wrapper (DistributedDataParallel): The current wrapper (MMEngine's
            ``MMDistributedDataParallel`` or torch's).

    Returns:
        DistributedDataParallel: A wrapper of the same class around the same module.
    """
    module: nn.Module = wrapper.module
    return type(wrapper)(
        module=module,
        device_ids=wrapper.device_ids,
        output_device=wrapper.output_device,
        broadcast_buffers=wrapper.broadcast_buffers,
        find_unused_parameters=wrapper.find_unused_parameters,
        gradient_as_bucket_view=wrapper.gradient_as_bucket_view,
        bucket_cap_mb=wrapper.bucket_bytes_cap / (1024 * 1024))


def optim_wrappers(optim_wrapper) -> list:
    """The optimizer wrappers of ``runner.optim_wrapper`` (one, or an ``OptimWrapperDict``'s)."""
    if isinstance(optim_wrapper, OptimWrapperDict):
        return list(optim_wrapper.values())
    return [optim_wrapper]


def schedulers(param_schedulers) -> Iterator:
    """Every scheduler of ``runner.param_schedulers`` (None, a list, or a dict of lists)."""
    if param_schedulers is None:
        return iter(())
    if isinstance(param_schedulers, dict):
        return (s for group in param_schedulers.values() for s in group)
    return iter(param_schedulers)


def fmt(values: list) -> str:
    """``1e-05/0.1``: learning rates for a log line."""
    return '/'.join(f'{v:g}' for v in values)
