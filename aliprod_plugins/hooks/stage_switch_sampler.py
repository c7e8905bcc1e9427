"""The stage-2 sampler of :class:`StageSwitchHook`: built and checked, then swapped in.

The train dataloader is rebuilt around the same dataset object (no re-indexing), pipeline,
batch size and workers; only the sampler changes.
"""
import copy
from contextlib import contextmanager
from typing import Iterator

from mmpretrain.registry import DATA_SAMPLERS

from aliprod_plugins.engine.loader_workers import shutdown_workers
from aliprod_plugins.engine.runner_parts import train_sampler


def build_stage2_sampler(runner, sampler_cfg: dict, switch_epoch: int):
    """Build ``sampler_cfg`` on the run's train dataset and seed, naming the setting if it fails.

    Args:
        runner (Runner): The running runner (its train loop's dataloader is built).
        sampler_cfg (dict): The hook's ``sampler`` config.
        switch_epoch (int): The hook's ``switch_epoch``, for the message.

    Returns:
        The sampler.

    Raises:
        ValueError: The sampler does not fit the dataset; names the ``custom_hooks`` entry.
    """
    dataset = runner.train_loop.dataloader.dataset
    try:
        return DATA_SAMPLERS.build(copy.deepcopy(sampler_cfg),
                                   default_args=dict(dataset=dataset, seed=runner.seed))
    except (ValueError, TypeError) as err:
        where = 'custom_hooks'
        for i, hook in enumerate(runner.cfg.get('custom_hooks') or []):
            if isinstance(hook, dict) and getattr(hook.get('type'), '__name__',
                                                  hook.get('type')) == 'StageSwitchHook':
                where = f'custom_hooks.{i}.sampler'
        raise ValueError(
            f'StageSwitchHook(switch_epoch={switch_epoch}): the stage-2 sampler '
            f'{sampler_cfg!r} does not fit the training dataset: {err}. Change {where} '
            f'(a class without training images keeps its id; to draw only among classes '
            f'with images: --cfg-options {where}.skip_empty_classes=True)') from err


def swap_train_sampler(runner, sampler) -> str:
    """Rebuild the train dataloader around ``sampler`` and put it in the train loop.

    Args:
        runner (Runner): The running runner.
        sampler: The stage-2 sampler (from :func:`build_stage2_sampler`).

    Returns:
        str: What changed, for the hook's log line.
    """
    old = runner.train_loop.dataloader
    cfg = runner.cfg.get('train_dataloader')
    if not isinstance(cfg, dict):
        raise RuntimeError('StageSwitchHook rebuilds the train dataloader from '
                           f'runner.cfg.train_dataloader, got {cfg!r}')
    cfg = dict(cfg)
    cfg['dataset'] = old.dataset  # the built (and possibly sliced) dataset: no re-indexing
    cfg.pop('num_batch_per_epoch', None)
    cfg['sampler'] = sampler
    diff_rank_seed = runner.cfg.get('randomness', {}).get('diff_rank_seed', False)
    shutdown_workers(old)
    with not_deep_copied(old.dataset):
        new = runner.build_dataloader(cfg, seed=runner.seed, diff_rank_seed=diff_rank_seed)
    sampler = train_sampler(new)
    if hasattr(sampler, 'set_epoch'):
        sampler.set_epoch(runner.epoch)
    runner.train_loop.dataloader = new
    if len(new) != len(old):
        runner.logger.warning(
            f'StageSwitchHook: the new sampler gives {len(new)} batches per epoch instead '
            f'of {len(old)}; max_iters, ETA and iteration-based schedules keep the old count')
    return f'sampler {type(old.sampler).__name__} -> {sampler!r}'


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
