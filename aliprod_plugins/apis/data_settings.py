"""Your own data in one setting each: ``data_root`` and ``num_classes`` for the whole config.

MMEngine resolves a config's variables when it parses the file, so ``data_root = ...`` or
``--cfg-options num_classes=7`` on the top level reaches none of the places the value was
copied into. ``tools/train.py``, ``tools/test.py`` and ``tools/infer.py`` call
:func:`apply_data_settings`, which sets

- ``data_root``: every dataloader's dataset (``train`` / ``val`` / ``test``, wrapped ones too);
- ``num_classes``: those datasets, ``model.head``, ``data_preprocessor`` (top level and in
  ``model``);

from ``--data-root`` / ``--num-classes`` or a top-level ``data_root=`` / ``num_classes=`` in
``--cfg-options``. :func:`follow_val` makes ``test_dataloader`` / ``test_evaluator`` take the
``--cfg-options`` given for ``val_*`` when the config defines them alike (the base configs'
``test_dataloader = val_dataloader``) and the option names no ``test_*`` key itself.
:func:`resolve_data_roots` makes relative ``data_root`` s of the config independent of the
current directory: they are relative to the repository root (where ``data/`` lives).
"""
import argparse
import os.path as osp
from typing import Any, Dict, Iterator, Optional, Sequence

from mmengine.config import Config

from ..checks import check_int

#: The repository root: relative ``data_root`` s in configs are relative to it.
REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
LOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')
_FOLLOWERS = (('val_dataloader', 'test_dataloader'), ('val_evaluator', 'test_evaluator'))


def add_data_args(parser: argparse.ArgumentParser) -> None:
    """Add ``--data-root`` and ``--num-classes`` in a group of their own."""
    group = parser.add_argument_group('your own data')
    group.add_argument('--data-root', help="data folder of every dataloader (relative to the "
                       "current directory; default: the config's)")
    group.add_argument('--num-classes', type=int, help='number of classes of the datasets, the '
                       "head and the preprocessor (default: the config's)")


def follow_val(cfg: Config, options: Optional[Dict[str, Any]]) -> Optional[Dict[str, Any]]:
    """Copy ``val_dataloader.*`` / ``val_evaluator.*`` options to ``test_*`` where they follow.

    Args:
        cfg (Config): The config as read from its file (before the options).
        options (dict, optional): ``--cfg-options``.

    Returns:
        dict, optional: The options, with the ``test_*`` copies added.
    """
    if not options:
        return options
    out = dict(options)
    for val, test in _FOLLOWERS:
        if cfg.get(test) is None or cfg.get(test) != cfg.get(val):
            continue  # the config sets its test loader / evaluator apart: leave it
        if any(k == test or k.startswith(test + '.') for k in options):
            continue
        for key, value in options.items():
            if key == val or key.startswith(val + '.'):
                out[test + key[len(val):]] = value
    return out


def apply_data_settings(cfg: Config, data_root: Optional[str] = None,
                        num_classes: Optional[int] = None,
                        options: Optional[Dict[str, Any]] = None) -> Config:
    """Propagate ``data_root`` / ``num_classes`` to everything that holds a copy.

    Args:
        cfg (Config): The config, ``--cfg-options`` already merged.
        data_root (str, optional): ``--data-root`` (relative to the current directory).
        num_classes (int, optional): ``--num-classes``.
        options (dict, optional): ``--cfg-options``: a top-level ``data_root`` /
            ``num_classes`` there counts as the flag (the flag wins).

    Returns:
        Config: ``cfg``, changed in place.
    """
    options = options or {}
    if data_root is None and 'data_root' in options:
        data_root = osp.join(REPO_ROOT, options['data_root'])
    if num_classes is None and 'num_classes' in options:
        num_classes = options['num_classes']
    if data_root is not None:
        if not isinstance(data_root, str) or not data_root:
            raise ValueError(f'data_root must be a folder, got {data_root!r}')
        data_root = osp.abspath(data_root)
        if not osp.isdir(data_root):
            raise ValueError(f'--data-root expects an existing folder, got {data_root!r}')
        cfg.data_root = data_root
        for dataset in _datasets(cfg):
            dataset['data_root'] = data_root
    if num_classes is not None:
        check_int('num_classes', num_classes, low=1)
        cfg.num_classes = num_classes
        for dataset in _datasets(cfg):
            if 'num_classes' in dataset or dataset.get('type') == 'AliProductsDataset':
                dataset['num_classes'] = num_classes
        model = cfg.get('model') or {}
        for part in (model.get('head'), model.get('data_preprocessor'),
                     cfg.get('data_preprocessor')):
            if isinstance(part, dict):
                part['num_classes'] = num_classes
    return cfg


def resolve_data_roots(cfg: Config, root: str = REPO_ROOT) -> Config:
    """Make every relative dataset ``data_root`` (and the top-level one) relative to ``root``.

    Args:
        cfg (Config): The config.
        root (str): What relative paths are relative to. Defaults to the repository root.

    Returns:
        Config: ``cfg``, changed in place.
    """
    holders = list(_datasets(cfg)) + [cfg]
    for holder in holders:
        value = holder.get('data_root')
        if isinstance(value, str) and value and not osp.isabs(value):
            holder['data_root'] = osp.normpath(osp.join(root, value))
    return cfg


def check_data_roots(cfg: Config, loaders: Sequence[str] = LOADERS) -> None:
    """Refuse a dataset ``data_root`` that is not a folder, before anything is built or written.

    Args:
        cfg (Config): The config, after :func:`resolve_data_roots`.
        loaders (Sequence[str]): The dataloaders the tool uses. Defaults to all three.

    Raises:
        ValueError: Naming the setting, the folder and how relative paths are resolved.
    """
    for name in loaders:
        loader = cfg.get(name)
        for dataset in _nested(loader.get('dataset') if isinstance(loader, dict) else None):
            root = dataset.get('data_root')
            if isinstance(root, str) and root and not osp.isdir(root):
                raise ValueError(
                    f'{name}.dataset.data_root expects an existing folder, got {root!r} (a '
                    f'relative data_root in a config is relative to the repository root '
                    f'{REPO_ROOT}); point it at your data with --data-root DIR')


def _datasets(cfg: Config, loaders: Sequence[str] = LOADERS) -> Iterator[dict]:
    """Every dataset config of the dataloaders, wrapped ones included."""
    for name in loaders:
        loader = cfg.get(name)
        if isinstance(loader, dict):
            yield from _nested(loader.get('dataset'))


def _nested(dataset: Any) -> Iterator[dict]:
    if isinstance(dataset, (list, tuple)):
        for item in dataset:
            yield from _nested(item)
    elif isinstance(dataset, dict):
        yield dataset
        yield from _nested(dataset.get('dataset'))
        yield from _nested(dataset.get('datasets'))
