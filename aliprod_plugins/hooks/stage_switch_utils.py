"""Helpers of :class:`StageSwitchHook`: optimizers, schedulers and the DDP wrapper."""
from contextlib import contextmanager
from typing import Iterator

from mmengine.optim import OptimWrapperDict
from torch import nn
from torch.nn.parallel import DistributedDataParallel


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
    if isinstance(optim_wrapper, OptimWrapperDict):
        return list(optim_wrapper.values())
    return [optim_wrapper]


def schedulers(param_schedulers) -> Iterator:
    if param_schedulers is None:
        return iter(())
    if isinstance(param_schedulers, dict):
        return (s for group in param_schedulers.values() for s in group)
    return iter(param_schedulers)


def fmt(values: list) -> str:
    return '/'.join(f'{v:g}' for v in values)


@contextmanager
def not_deep_copied(obj) -> Iterator[None]:
    """Make ``copy.deepcopy`` return ``obj`` itself (``build_dataloader`` copies its cfg)."""
    try:
        obj.__deepcopy__ = lambda memo: obj
        patched = True
    except AttributeError:  # no instance __dict__: let it be copied
        patched = False
    try:
        yield
    finally:
        if patched:
            del obj.__deepcopy__
