"""``--cfg-options`` that refuse keys the config does not have; ``--cfg-options-new`` adds them.

MMEngine merges any ``key=value``: ``randomnes.seed=3`` adds a key nobody reads (the run trains
with seed 0) and ``train_cfg.max_epoch=3`` ends in a ``TypeError`` deep in the loop. Here every
dotted key of ``--cfg-options`` must name a setting the config has (list items by index, as
``custom_hooks.0.switch_epoch``) or a named argument of the registered ``type`` of its dict
(``default_hooks.logger.ignore_last``: ``LoggerHook`` takes it); a miss is refused naming the
closest existing key (difflib).
Keys meant to be new go in ``--cfg-options-new``: their parent must exist, or be a named
argument of the registered ``type`` of the dict above it (``model.train_cfg.augments.type``)::

    python tools/train.py CONFIG --cfg-options train_cfg.max_epochs=3
    python tools/train.py CONFIG --cfg-options-new model.head.init_cfg.std=0.01
"""
import argparse
import difflib
import inspect
from typing import Callable, Iterator, List, Optional, Tuple

from mmengine.config import Config, DictAction
from mmengine.registry import Registry

from ..apis.data_settings import follow_val

_MAX_DEPTH = 12


def add_cfg_options_args(parser: argparse.ArgumentParser, example: str = '') -> None:
    """Add ``--cfg-options`` and ``--cfg-options-new`` to ``parser`` (or an argument group).

    Args:
        parser (ArgumentParser): Where the flags go.
        example (str): ``key=value`` examples for the help text. Defaults to ''.
    """
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override config settings, key=value pairs; a key the config does not have is '
        f'refused, naming the closest one{", e.g. " + example if example else ""}')
    parser.add_argument(
        '--cfg-options-new', nargs='+', action=DictAction,
        help='add config settings that do not exist yet, key=value pairs (their parent must '
        'exist)')


def apply_cfg_options(cfg: Config, args: argparse.Namespace) -> Config:
    """Check and merge ``args.cfg_options_new`` (first), then ``args.cfg_options``, into ``cfg``.

    ``val_dataloader`` / ``val_evaluator`` options also reach ``test_*`` where the config
    defines them alike (:func:`~aliprod_plugins.apis.data_settings.follow_val`).

    Args:
        cfg (Config): The loaded config; changed in place.
        args (Namespace): Parsed flags with ``cfg_options`` and ``cfg_options_new`` (either
            may be missing or None).

    Returns:
        Config: ``cfg``.

    Raises:
        ValueError: A key of ``--cfg-options`` is not in the config, or the parent of a key of
            ``--cfg-options-new`` is not.
    """
    new = getattr(args, 'cfg_options_new', None)
    if new:
        for key in new:
            check_key(cfg, key, new=True)
        cfg.merge_from_dict(new)
    options = getattr(args, 'cfg_options', None)
    if options:
        for key in options:
            check_key(cfg, key, new=False)
        # test_* follows val_* options where the config defines them alike
        cfg.merge_from_dict(follow_val(cfg, options))
    return cfg


def check_key(cfg: Config, key: str, new: bool = False) -> None:
    """Raise ``ValueError`` unless ``key`` (dotted) exists in ``cfg`` (its parent, if ``new``).

    Args:
        cfg (Config): The config.
        key (str): A dotted key; integer parts index lists (``custom_hooks.0.type``).
        new (bool): The key is meant to be new: only its parent must exist, as a dict (or
            be a named argument of the type of the dict above). Defaults to False.
    """
    tree = cfg.to_dict()
    parts = key.split('.')
    depth, node = _walk(tree, parts)
    if depth == len(parts):
        return
    if isinstance(node, dict):
        # the top level is the Runner's arguments (experiment_name, randomness, ...)
        type_ = node.get('type') if depth else _runner_class()
        takes = _type_takes(type_, parts[depth])
        if depth == len(parts) - 1 and (new or takes):
            return
        if new and takes:  # a new sub-dict of a named argument: model.train_cfg.augments.type
            return
    flag = '--cfg-options-new' if new else '--cfg-options'
    parent = '.'.join(parts[:depth]) or 'the top level'
    if depth > 0 and not isinstance(node, (dict, list, tuple)):
        where = f'{parent} is {node!r}, not a dict'
    elif isinstance(node, (list, tuple)):
        where = f'{parent} is a list of {len(node)} item(s), {parts[depth]!r} does not index it'
    else:
        where = f'no key {parts[depth]!r} in {parent}'
    close = difflib.get_close_matches(key, [p for p, _ in _paths(tree)], n=1, cutoff=0.6)
    hint = f'; did you mean {close[0]!r}?' if close else ''
    extra = '' if new else ' (use --cfg-options-new for a key meant to be new)'
    raise ValueError(f'{flag}: {key!r} is not in the config ({where}){hint}{extra}')


def _type_takes(type_, name: str) -> bool:
    """Whether the registered class (or function) ``type_`` takes a named argument ``name``."""
    target = type_ if callable(type_) else _registered(type_)
    if target is None:
        return False
    kinds = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    functions = ([k.__dict__['__init__'] for k in inspect.getmro(target)
                  if '__init__' in k.__dict__] if inspect.isclass(target) else [target])
    for function in functions:  # **kwargs passed on to a base class: its names count too
        try:
            param = inspect.signature(function).parameters.get(name)
        except (TypeError, ValueError):  # a builtin without a signature
            continue
        if param is not None and param.kind in kinds:
            return True
    return False


def _runner_class() -> Callable:
    """MMEngine's ``Runner``, whose named arguments are the config's top-level keys."""
    from mmengine.runner import Runner
    return Runner


def _registered(type_) -> Optional[Callable]:
    """The class or function registered as ``type_`` in any of MMPretrain's registries."""
    if not isinstance(type_, str):
        return None
    from mmpretrain import registry
    for name in sorted(n for n in dir(registry) if n.isupper()):
        found = getattr(registry, name)
        if not isinstance(found, Registry):
            continue
        try:
            target = found.get(type_)
        except Exception:  # noqa: BLE001  a registry that cannot import its location
            continue
        if target is not None:
            return target
    return None


def _walk(tree: dict, parts: List[str]) -> Tuple[int, object]:
    """How many leading ``parts`` exist, and the node where the walk stopped."""
    node: object = tree
    for depth, part in enumerate(parts):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, (list, tuple)) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return depth, node
    return len(parts), node


def _paths(node: object, prefix: str = '', depth: int = 0) -> Iterator[Tuple[str, object]]:
    """Every dotted key of a config tree (list items by index)."""
    if depth > _MAX_DEPTH:
        return
    items: Optional[Iterator] = None
    if isinstance(node, dict):
        items = ((str(k), v) for k, v in node.items())
    elif isinstance(node, (list, tuple)):
        items = ((str(i), v) for i, v in enumerate(node))
    for name, value in items or ():
        path = f'{prefix}.{name}' if prefix else name
        yield path, value
        yield from _paths(value, path, depth + 1)
