"""Checks a tool runs before building MMEngine's Runner, so their error is the first thing shown.

The Runner prints the environment and the whole config before it builds the datasets; a missing
config, annotation file or checkpoint should be refused before that, in one line.
"""
import os.path as osp
from typing import Iterable

from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmpretrain.registry import DATASETS

from ..apis import data_settings
from .cfg_options import apply_cfg_options


def check_config_file(path: str) -> None:
    """Raise ``FileNotFoundError`` naming ``path`` unless it is a config file."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'config {path!r} does not exist')


def check_annotations(cfg, loaders: Iterable[str]) -> None:
    """Raise ``FileNotFoundError`` when the dataset of a loader names a missing annotation file.

    Each ``cfg[loader].dataset`` with a ``type`` is built with ``lazy_init=True`` (its own
    path rules, no annotation read) and its ``ann_file`` is looked up. Datasets that cannot be
    built lazily, and remote paths (``s3://``) are left to the dataset.

    Args:
        cfg (Config): The merged config.
        loaders (Iterable[str]): e.g. ``('train_dataloader', 'val_dataloader')``.
    """
    for loader in loaders:
        dataset_cfg = (cfg.get(loader) or {}).get('dataset') or {}
        if 'type' not in dataset_cfg:
            continue
        with DefaultScope.overwrite_default_scope(cfg.get('default_scope', 'mmpretrain')):
            try:
                dataset = DATASETS.build(dict(dataset_cfg, lazy_init=True, pipeline=[]))
            except TypeError:  # no lazy_init: the dataset checks its own files
                continue
        ann_file = getattr(dataset, 'ann_file', None)
        if not isinstance(ann_file, str) or not ann_file or '://' in ann_file:
            continue
        if not osp.isfile(ann_file):
            root = dataset_cfg.get('data_root')
            where = f' (data_root {root!r} does not exist)' if root and not osp.isdir(root) \
                else ''
            raise FileNotFoundError(f'{loader}.dataset: annotation file {ann_file!r} does not '
                                    f'exist{where}')


def load_config(args) -> Config:
    """A tool's config: the file checked, options checked and merged, data settings spread.

    ``--cfg-options-new`` / ``--cfg-options`` go through :func:`apply_cfg_options`; ``--data-root``
    / ``--num-classes`` (or top-level ``data_root=`` / ``num_classes=`` options) reach every
    dataloader, the head and the preprocessor; relative ``data_root`` s are resolved against the
    repository, not the current directory (:mod:`aliprod_plugins.apis.data_settings`).

    Args:
        args (Namespace): Parsed flags with ``config`` and, where the tool has them,
            ``cfg_options``, ``cfg_options_new``, ``data_root`` and ``num_classes``.

    Returns:
        Config: The config, ready to build from.
    """
    check_config_file(args.config)
    cfg = apply_cfg_options(Config.fromfile(args.config), args)
    data_settings.apply_data_settings(cfg, getattr(args, 'data_root', None),
                                      getattr(args, 'num_classes', None),
                                      getattr(args, 'cfg_options', None))
    return data_settings.resolve_data_roots(cfg)
