"""Reach the parts of a running ``Runner`` that hooks and loops work on, in one way each.

- :func:`unwrap_model`: the model itself, under a DDP / FSDP wrapper or not;
- :func:`train_sampler`: the sampler that orders a dataloader's samples (the one our
  samplers' ``set_epoch`` / ``set_start`` live on).
"""
from typing import Optional

from mmengine.model import is_model_wrapper
from torch import nn


def unwrap_model(model: nn.Module) -> nn.Module:
    """Return the model a wrapper (``MMDistributedDataParallel``, ...) holds, or ``model``.

    Args:
        model (nn.Module): ``runner.model``: the model or a wrapper registered in MMEngine's
            ``MODEL_WRAPPERS``.

    Returns:
        nn.Module: ``model.module`` for a wrapper, else ``model`` itself.
    """
    return model.module if is_model_wrapper(model) else model


def train_sampler(loader) -> Optional[object]:
    """Return the sampler that orders ``loader``'s samples, or None without one.

    A ``DataLoader`` built with a batch size wraps its sampler in a ``BatchSampler``; one built
    with a ``batch_sampler`` keeps a default ``SequentialSampler`` in ``loader.sampler`` that is
    never used. The batch sampler's ``sampler`` therefore comes first.

    Args:
        loader: A ``torch.utils.data.DataLoader`` (or anything with ``batch_sampler`` /
            ``sampler`` attributes).

    Returns:
        The sampler (``loader.batch_sampler.sampler``, else ``loader.sampler``), or None.
    """
    sampler = getattr(getattr(loader, 'batch_sampler', None), 'sampler', None)
    return sampler if sampler is not None else getattr(loader, 'sampler', None)
