"""A two-stage config's epochs and LR milestones, read with MMEngine's ``Config``.

The demo and the benchmarks shorten or lengthen stage 1 (``--stage1-epochs``); the step
schedule's milestones then move with it, in proportion (``[20, 26]`` of 30 epochs -> ``[13,
17]`` of 20).
"""
from typing import List, Tuple

from mmengine.config import Config


def _find(items, type_name: str, what: str, path: str) -> dict:
    items = [items] if isinstance(items, dict) else list(items or [])
    found = [i for i in items if isinstance(i, dict) and i.get('type') == type_name]
    if not found:
        raise ValueError(f'{path}: expected a {type_name} in {what}, got '
                         f'{[i.get("type") if isinstance(i, dict) else i for i in items]}')
    return found[0]


def load(config) -> Config:
    """``config`` itself if it is a ``Config``, else the file it names, loaded."""
    return config if isinstance(config, Config) else Config.fromfile(config)


def stage_epochs(config) -> Tuple[int, int]:
    """(stage-1 epochs, stage-2 epochs) of a two-stage config (``StageSwitchHook``'s switch).

    Args:
        config (str | Config): The two-stage config or its path.
    """
    cfg = load(config)
    switch = _find(cfg.get('custom_hooks'), 'StageSwitchHook', 'custom_hooks', cfg.filename)
    return switch['switch_epoch'], cfg.train_cfg.max_epochs - switch['switch_epoch']


def milestones(config) -> List[int]:
    """The epochs at which the config's ``MultiStepLR`` decays the LR."""
    cfg = load(config)
    return list(_find(cfg.get('param_scheduler'), 'MultiStepLR', 'param_scheduler',
                      cfg.filename)['milestones'])


def scaled_milestones(config, epochs: int, base_epochs: int) -> List[int]:
    """The config's milestones for ``epochs`` of stage 1 instead of ``base_epochs``.

    Args:
        config (str | Config): The config (or its path) with a ``MultiStepLR``.
        epochs (int): Stage-1 epochs of this run.
        base_epochs (int): Stage-1 epochs the config's milestones are written for.

    Returns:
        list[int]: Each milestone times ``epochs / base_epochs``, rounded, at least 1.
    """
    scale = epochs / base_epochs
    return [max(1, round(m * scale)) for m in milestones(config)]
