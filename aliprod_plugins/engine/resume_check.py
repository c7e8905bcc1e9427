"""Check that a checkpoint can be resumed from, cheaply, and say what is wrong when it cannot.

A check loads the checkpoint memory-mapped with ``weights_only=True`` and the allowlist of
:mod:`aliprod_plugins.engine.checkpoint` (the pickle is read and checked, the tensors are
mapped, not copied: milliseconds for a 1 GB checkpoint); a file that does not load that way is
loaded again through :func:`~aliprod_plugins.engine.checkpoint.safe_load` for its error. It
then checks for what ``Runner.resume`` reads (``meta`` with ``epoch`` / ``iter``,
``state_dict``, ``message_hub``) and tells which training states it lacks (a ``best_*.pth`` of
``save_best`` has no optimizer nor scheduler state). Whatever goes wrong while checking a file
(a 3-byte file, a truncated or foreign one) becomes a :class:`ResumeError` naming the file.
"""
import os.path as osp
from typing import List, Tuple

import torch

from .checkpoint import UnsafeCheckpointError, checkpoint_safe_globals, safe_load

#: keys ``Runner.resume`` reads from a checkpoint
RESUME_KEYS = ('meta', 'state_dict', 'message_hub')
#: training states without which a resumed run restarts its optimizer / LR schedule
TRAINING_STATES = ('optimizer', 'param_schedulers')


class ResumeError(RuntimeError):
    """A checkpoint given to ``--resume`` cannot be resumed from."""


def check_checkpoint(path: str) -> dict:
    """Verify that ``path`` is a checkpoint ``Runner.resume`` can continue from.

    Args:
        path (str): Checkpoint file.

    Returns:
        dict: The checkpoint's ``meta`` (``epoch``, ``iter``, ...).

    Raises:
        ResumeError: Why it cannot be resumed from (missing, empty, truncated or corrupt,
            refused by the allowlist, or not a training checkpoint).
    """
    return inspect_checkpoint(path)[0]


def inspect_checkpoint(path: str) -> Tuple[dict, List[str]]:
    """:func:`check_checkpoint`, also telling which training states the checkpoint lacks.

    Returns:
        tuple: ``(meta, missing)``: ``missing`` lists the :data:`TRAINING_STATES` it does not
        hold (empty for a complete training checkpoint).

    Raises:
        ResumeError: As :func:`check_checkpoint`; any other exception while checking is turned
            into one, with the file and the error.
    """
    try:
        return _inspect(path)
    except ResumeError:
        raise
    except Exception as err:  # a junk or foreign file can fail anywhere in torch's loaders
        raise ResumeError(f'checkpoint {path!r} could not be read as a checkpoint: '
                          f'{type(err).__name__}: {_first_sentence(err)}') from None


def _inspect(path: str) -> Tuple[dict, List[str]]:
    if not osp.exists(path):
        raise ResumeError(f'checkpoint {path!r} does not exist')
    if not osp.isfile(path):
        raise ResumeError(f'checkpoint {path!r} is not a file')
    size = osp.getsize(path)
    if size == 0:
        raise ResumeError(f'checkpoint {path!r} is empty (0 bytes): its save was interrupted')
    checkpoint = _load(path, size)
    if not isinstance(checkpoint, dict):
        raise ResumeError(f'checkpoint {path!r} holds a {type(checkpoint).__name__}, expected '
                          'the dict of an MMEngine training checkpoint')
    missing = [key for key in RESUME_KEYS if key not in checkpoint]
    meta = checkpoint.get('meta')
    if not missing and not (isinstance(meta, dict) and isinstance(meta.get('epoch'), int)
                            and isinstance(meta.get('iter'), int)):
        missing = ["meta['epoch'] / meta['iter']"]
    if missing:
        raise ResumeError(
            f'checkpoint {path!r} cannot be resumed from: it lacks {", ".join(missing)} '
            f'(it holds {", ".join(map(str, checkpoint)) or "nothing"}). To start a new run '
            f'from its weights use --cfg-options load_from={path} without --resume')
    return meta, [key for key in TRAINING_STATES if key not in checkpoint]


def _load(path: str, size: int):
    try:
        with torch.serialization.safe_globals(checkpoint_safe_globals()):
            return torch.load(path, map_location='cpu', weights_only=True, mmap=True)
    except Exception:  # not a zip checkpoint, or damaged: the full loader says what is wrong
        pass
    try:
        return safe_load(path, map_location='cpu')
    except UnsafeCheckpointError as err:
        raise ResumeError(str(err)) from None
    except Exception as err:  # IndexError, KeyError, ... from the unpickler on junk bytes
        raise ResumeError(f'checkpoint {path!r} ({size} bytes) does not load, it is truncated '
                          f'or corrupt: {type(err).__name__}: {_first_sentence(err)}') from None


def _first_sentence(err: BaseException) -> str:
    text = str(err).strip()
    end = text.find('. ')  # torch's zip errors go on with a paragraph of advice
    return text if end < 0 else text[:end + 1]
