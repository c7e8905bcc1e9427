"""Run MMEngine's ``pytorch`` launcher on machines without a GPU.

MMEngine's launcher calls ``torch.cuda.set_device`` and wraps the model in DDP with
``device_ids=[LOCAL_RANK]``; both fail without CUDA. On such a machine the process group is
initialised here with the gloo backend (MMEngine then skips its own initialisation) and DDP is
built without ``device_ids``. GPU machines are left to MMEngine (nccl, device_ids).
"""
import os

import torch
import torch.distributed as torch_dist
from mmengine.config import Config


def setup_cpu_distributed(cfg: Config, launcher: str) -> bool:
    """Prepare ``cfg`` and the process group for a CPU-only multi-process run.

    Args:
        cfg (Config): The run's config; ``model_wrapper_cfg`` is set to DDP without devices.
        launcher (str): The ``--launcher`` value.

    Returns:
        bool: True if the CPU path was taken.
    """
    if launcher != 'pytorch' or torch.cuda.is_available():
        return False
    if not torch_dist.is_initialized():
        torch_dist.init_process_group(
            backend='gloo',
            rank=int(os.environ['RANK']),
            world_size=int(os.environ['WORLD_SIZE']))
    wrapper = dict(cfg.get('model_wrapper_cfg') or {})
    wrapper.setdefault('type', 'MMDistributedDataParallel')
    wrapper.setdefault('broadcast_buffers', False)
    wrapper.setdefault('find_unused_parameters', cfg.get('find_unused_parameters', False))
    wrapper['device_ids'] = None
    cfg.model_wrapper_cfg = wrapper
    cfg.setdefault('env_cfg', {}).setdefault('dist_cfg', {})['backend'] = 'gloo'
    return True


def teardown_distributed() -> None:
    """Leave the process group together: wait for every rank, then destroy the group.

    A rank that finishes first and exits with the group still open can abort in gloo's
    destructor ("terminate called without an active exception", exit -6) while another rank
    is still writing its last checkpoint or log; torchrun then kills the others. Called by
    the tools after training or testing; does nothing in a single-process run.
    """
    if torch_dist.is_available() and torch_dist.is_initialized():
        torch_dist.barrier()
        torch_dist.destroy_process_group()
