"""Refuse a checkpoint that does not fit the config, in one line, before the runner is built.

MMEngine loads a checkpoint with ``strict=False``: a head of another shape is skipped with a
warning buried in the log and the run goes on with a random classifier (``tools/test.py``
reported 100% error, a stage-2 ``load_from`` trained the wrong head, ``tools/infer.py`` ended
in ``IndexError``). :func:`check_checkpoint` reads the checkpoint's tensor shapes (memory-mapped,
``weights_only``), builds the config's model (on the ``meta`` device where it can be, else on
the CPU) and compares: a key in both with another shape, a key on one side only, and the class ids
(``meta['dataset_meta']['classes']``) against the config's dataset all refuse it.

A deliberate partial load is stated in the config, by parameter-name prefixes::

    load_from_skip = ['head.']   # cRT: the classifier is re-initialised, any shape may come in

Keys under these prefixes may be missing, extra or of another shape in ``load_from``
(MMEngine then keeps their initialisation); ``tools/test.py`` and ``tools/infer.py`` never skip.
"""
import os.path as osp
import pickle
import re
from typing import Dict, List, Optional, Sequence, Tuple

import torch

from .checkpoint import checkpoint_safe_globals, safe_load

#: the config key naming what a ``load_from`` checkpoint may lack or hold in another shape
SKIP_KEY = 'load_from_skip'


def checkpoint_shapes(path: str) -> Tuple[Dict[str, tuple], dict]:
    """Tensor shapes of a checkpoint's ``state_dict`` and its ``meta``, without reading weights.

    Args:
        path (str): Local checkpoint file.

    Returns:
        tuple: ``({key: shape}, meta)``; ``module.`` prefixes (DDP) are removed as MMEngine
        does on load.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'checkpoint {path!r} does not exist')
    try:
        with torch.serialization.safe_globals(checkpoint_safe_globals()):
            ckpt = torch.load(path, map_location='cpu', weights_only=True, mmap=True)
    except Exception:  # noqa: BLE001  not a zip file (mmap needs one) or refused: say why
        try:
            ckpt = safe_load(path, map_location='cpu')
        except (FileNotFoundError, pickle.UnpicklingError):
            raise
        except Exception as err:  # noqa: BLE001  truncated, junk, another format
            raise ValueError(f'checkpoint {path!r} cannot be read: {type(err).__name__}: '
                             f'{err}') from None
    if not isinstance(ckpt, dict):
        raise ValueError(f'checkpoint {path!r}: expected a dict, got {type(ckpt).__name__}')
    state = ckpt.get('state_dict', ckpt)
    shapes = {re.sub(r'^module\.', '', k): tuple(v.shape) for k, v in state.items()
              if isinstance(v, torch.Tensor)}
    return shapes, ckpt.get('meta') or {}


def model_shapes(cfg) -> Dict[str, tuple]:
    """Shapes of the ``state_dict`` of ``cfg.model`` (built on the meta device where possible)."""
    from mmengine.registry import DefaultScope
    from mmpretrain.registry import MODELS
    model_cfg = dict(cfg.model)
    if cfg.get('data_preprocessor') is not None:
        model_cfg.setdefault('data_preprocessor', cfg.data_preprocessor)
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope', 'mmpretrain')):
        try:
            with torch.device('meta'):
                model = MODELS.build(model_cfg)
        except (RuntimeError, NotImplementedError):  # e.g. ResNet's .item() on a meta tensor
            model = MODELS.build(model_cfg)  # on the CPU: ~1 s for ResNeSt-50 at 50,030 classes
    # a TTA wrapper (tools/test.py --tta) holds the model as `module.`: loaded as MMEngine does
    return {re.sub(r'^module\.', '', k): tuple(v.shape) for k, v in model.state_dict().items()}


def check_checkpoint(cfg, path: str, what: str = 'checkpoint',
                     classes: Optional[Sequence[str]] = None,
                     skip: Sequence[str] = ()) -> None:
    """Raise ``ValueError`` (one line) unless the checkpoint at ``path`` fits ``cfg.model``.

    Args:
        cfg (Config): The merged config.
        path (str): Local checkpoint file.
        what (str): How the message names it (``'checkpoint'``, ``'load_from'``). Defaults
            to ``'checkpoint'``.
        classes (Sequence[str], optional): The config's class ids, compared with the
            checkpoint's ``meta['dataset_meta']['classes']`` when both exist. Defaults to None.
        skip (Sequence[str]): Key prefixes allowed to differ (:data:`SKIP_KEY`). Defaults to ().

    Raises:
        FileNotFoundError: No such file.
        ValueError: Another shape, missing or extra keys, other class ids.
    """
    if '://' in str(path):  # a remote checkpoint is read by MMEngine's loaders only
        return
    ckpt, meta = checkpoint_shapes(path)
    model = model_shapes(cfg)
    free = tuple(skip)
    problems: List[str] = []
    # the classifier first: it names the class counts, the usual reason for a mismatch
    differ = sorted((k for k in set(ckpt) & set(model)
                     if ckpt[k] != model[k] and not k.startswith(free)),
                    key=lambda k: (not k.startswith('head.'), not k.endswith('weight'), k))
    if differ:
        key = differ[0]
        more = f' (and {len(differ) - 1} more key(s) of another shape)' if differ[1:] else ''
        problems.append(f'{key} is {_shape(ckpt[key])} in the checkpoint, '
                        f'{_shape(model[key])} in the config{more}')
    missing = [k for k in model if k not in ckpt and not k.startswith(free)]
    extra = [k for k in ckpt if k not in model and not k.startswith(free)]
    for keys, side in ((missing, 'missing from the checkpoint'),
                       (extra, 'in the checkpoint, not in the config\'s model')):
        if keys:
            problems.append(f'{len(keys)} key(s) {side} ({", ".join(keys[:3])}'
                            f'{", ..." if len(keys) > 3 else ""})')
    saved = tuple((meta.get('dataset_meta') or {}).get('classes') or ())
    head_free = any('head.'.startswith(p) or p == 'head.' for p in free)  # re-initialised
    if classes is not None and saved and not head_free and tuple(classes) != tuple(saved):
        problems.append(f'class ids differ: {_classes(saved)} in the checkpoint, '
                        f'{_classes(classes)} in the config')
    if problems:
        hint = (f'; for a deliberate partial load list the prefixes in the config, e.g. '
                f"{SKIP_KEY} = ['head.']" if what == 'load_from' else '')
        raise ValueError(f'{what} {path!r} does not fit {_name(cfg)}: {problems[0]}'
                         f'{"; " + "; ".join(problems[1:]) if problems[1:] else ""}{hint}')


def dataset_classes(cfg, loader: str) -> Optional[Tuple[str, ...]]:
    """The class ids of ``cfg[loader].dataset``, from a lazily built dataset (no annotation read).

    Returns None when the dataset cannot be built lazily or declares no classes.
    """
    from mmengine.registry import DefaultScope
    from mmpretrain.registry import DATASETS
    dataset_cfg = ((cfg.get(loader) or {}).get('dataset') or {})
    if 'type' not in dataset_cfg:
        return None
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope', 'mmpretrain')):
        try:
            dataset = DATASETS.build(dict(dataset_cfg, lazy_init=True, pipeline=[]))
        except TypeError:  # a dataset without lazy_init: not checked here
            return None
    classes = (getattr(dataset, 'metainfo', None) or {}).get('classes')
    return tuple(classes) if classes else None


def _shape(shape: tuple) -> str:
    return '[' + ', '.join(map(str, shape)) + ']'


def _classes(classes: Sequence[str]) -> str:
    shown = ', '.join(map(str, list(classes)[:3]))
    return f'{len(classes)} classes ({shown}{", ..." if len(classes) > 3 else ""})'


def _name(cfg) -> str:
    filename = getattr(cfg, 'filename', None)
    return f'the config {filename}' if filename else 'the config'
