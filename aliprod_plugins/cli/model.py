"""A tool's model: the config's classifier with a checkpoint's weights, in eval mode.

MMPretrain's :func:`~mmpretrain.apis.get_model` builds the model as the Runner does (the
top-level ``data_preprocessor`` of the config belongs to the model: mean / std and ``to_rgb``
are not in the checkpoint). The weights are loaded strictly (a missing or extra key, or a
head of another shape, is an error, never a silently half-loaded model) through MMEngine's
``load_checkpoint``, whose local-file loader is ours
(:func:`aliprod_plugins.engine.checkpoint.load_from_local`): ``weights_only=True`` with the
MMEngine allowlist, so a checkpoint that references any other global is refused before any of
its code runs. Only local files are read (an URL would go to another loader and download).
"""
import os.path as osp

import torch
from mmengine.config import Config
from mmengine.runner.checkpoint import load_checkpoint
from mmpretrain.apis import get_model

from ..engine import checkpoint as _safe_loading  # noqa: F401  our local-file loader


def load_model(cfg: Config, checkpoint: str, device: str = 'cpu') -> torch.nn.Module:
    """Build the config's model with the checkpoint's weights (strict), in eval mode.

    Args:
        cfg (Config): The config (its ``model`` and ``data_preprocessor``).
        checkpoint (str): A local checkpoint file (``state_dict`` inside, or the state dict).
        device (str): Where the model goes. Defaults to 'cpu'.

    Returns:
        torch.nn.Module: The model, on ``device``, in eval mode.

    Raises:
        FileNotFoundError: ``checkpoint`` is not a local file.
        UnsafeCheckpointError: The checkpoint references a global outside the allowlist.
        RuntimeError: Its weights do not fit the model (MMEngine's message lists the keys).
    """
    path = osp.abspath(osp.expanduser(checkpoint))  # '/...': no URL scheme's loader applies
    if not osp.isfile(path):
        raise FileNotFoundError(f'checkpoint {checkpoint!r} can not be found')
    model = get_model(cfg)
    load_checkpoint(model, path, map_location='cpu', strict=True, logger='silent')
    return model.to(device).eval()
