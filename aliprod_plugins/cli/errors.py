"""One-line errors for the tools: ``tools/X.py: error: <message>``, exit code 2.

Every tool ends with ``run_tool(main)``. An error *we* raise for bad input (a ``raise``
statement in ``aliprod_plugins/`` or ``tools/`` raising ``ValueError``, ``OSError`` (e.g.
``FileNotFoundError``), ``RuntimeError`` or a refused checkpoint) is printed as one line on
stderr, last, with exit code 2, as argparse does for a bad flag; so is a tool's own
``sys.exit('message')``. Anything else (a bug, an error raised inside a library) keeps its
traceback. ``--debug`` anywhere on the command line (it is taken out before the tool parses
its arguments) or ``ALIPROD_DEBUG=1`` shows the traceback of our errors too::

    python tools/test.py CONFIG missing.pth          # tools/test.py: error: checkpoint ...
    python tools/test.py CONFIG missing.pth --debug  # the same, with its traceback
"""
import os
import os.path as osp
import pickle
import re
import sys
from typing import Callable, List, Optional, Tuple

#: exit code of a refused input (argparse's, for a bad command line)
USAGE_EXIT_CODE = 2
DEBUG_FLAG = '--debug'
DEBUG_ENV = 'ALIPROD_DEBUG'

_REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
_OUR_DIRS = (osp.join(_REPO, 'aliprod_plugins') + os.sep, osp.join(_REPO, 'tools') + os.sep)
_INPUT_TYPES = (ValueError, OSError, RuntimeError, pickle.UnpicklingError)


def tool_name(main: Callable) -> str:
    """``tools/X.py`` for the tool whose ``main`` this is (path relative to the repository)."""
    path = osp.abspath(sys.modules[main.__module__].__file__)
    rel = osp.relpath(path, _REPO)
    return rel if not rel.startswith('..') else osp.basename(path)


def debug_requested(argv: List[str]) -> bool:
    """Whether ``--debug`` is in ``argv`` or ``ALIPROD_DEBUG`` is set to a true value."""
    return DEBUG_FLAG in argv or os.environ.get(DEBUG_ENV, '') not in ('', '0')


def is_input_error(exc: BaseException) -> bool:
    """Whether ``exc`` is an error our code raised on purpose for a bad input.

    True when its type is one we use for bad input and the innermost frame of its traceback is
    a ``raise`` statement in ``aliprod_plugins/`` or ``tools/`` (for an error re-raised from a
    DataLoader worker: the innermost frame of the worker's traceback). A ``ValueError`` out of
    numpy called from our code, or a ``TypeError`` anywhere, is not: it keeps its traceback.
    """
    from ..deploy.extras import MissingExtraError  # an optional package: one line naming it
    from ..engine.finite_optim_wrapper import NonFiniteLossError  # a failure, not an input
    if isinstance(exc, MissingExtraError):
        return True
    if not isinstance(exc, _INPUT_TYPES) or isinstance(exc, NonFiniteLossError):
        return False
    worker = _worker_frame(exc)
    if worker is not None:
        return _raised_by_us(*worker)
    tb = exc.__traceback__
    if tb is None:
        return False
    while tb.tb_next is not None:
        tb = tb.tb_next
    return _raised_by_us(tb.tb_frame.f_code.co_filename, tb.tb_lineno)


def _raised_by_us(filename: str, lineno: int) -> bool:
    import linecache
    filename = osp.abspath(filename)
    return filename.startswith(_OUR_DIRS) and \
        linecache.getline(filename, lineno).lstrip().startswith('raise')


def _worker_frame(exc: BaseException) -> Optional[Tuple[str, int]]:
    """``(file, line)`` of the innermost frame of a DataLoader worker's traceback, if any.

    PyTorch re-raises a worker's exception in the main process as the same type with the
    worker's formatted traceback as its message.
    """
    text = str(exc)
    if 'in DataLoader worker process' not in text or 'Original Traceback' not in text:
        return None
    frames = re.findall(r'File "([^"]+)", line (\d+)', text)
    return (frames[-1][0], int(frames[-1][1])) if frames else None


def error_message(exc: BaseException) -> str:
    """The text after ``error:``: the exception's message (its type when it has none).

    For an error of a DataLoader worker, the original message (the worker's last line).
    """
    text = str(exc).strip()
    if _worker_frame(exc) is not None:
        last = text.splitlines()[-1]
        prefix = f'{type(exc).__name__}: '
        text = last[len(prefix):] if last.startswith(prefix) else last
    return text or type(exc).__name__


def report_error(name: str, message: str) -> int:
    """Print ``NAME: error: MESSAGE`` as the last line on stderr; return the exit code (2)."""
    sys.stdout.flush()
    prefix = f'{name}: error: '
    message = message[len(prefix):] if message.startswith(prefix) else message
    short = osp.splitext(osp.basename(name))[0] + ': '  # tools' own 'pack_lmdb: ...' exits
    message = message[len(short):] if message.startswith(short) else message
    print(prefix + message, file=sys.stderr, flush=True)
    return USAGE_EXIT_CODE


def run_tool(main: Callable, argv: Optional[List[str]] = None) -> None:
    """Run a tool's ``main``: exit with its non-zero int result, or 2 with one line for a bad input.

    Args:
        main (Callable): The tool's ``main``; called with ``argv`` when it is given, else
            without arguments (it reads ``sys.argv``). Its return value is the exit code.
        argv (list[str], optional): Arguments (without the program name). Defaults to
            ``sys.argv[1:]``.
    """
    name = tool_name(main)
    args = list(sys.argv[1:] if argv is None else argv)
    debug = debug_requested(args)
    args = [a for a in args if a != DEBUG_FLAG]
    if argv is None:
        sys.argv[1:] = args
    try:
        code = main() if argv is None else main(args)
    except SystemExit as exc:  # sys.exit('message') of the tool: the same one line
        if isinstance(exc.code, str):
            sys.exit(report_error(name, exc.code))
        raise
    except BaseException as exc:  # noqa: B902  only our input errors are shortened
        if debug or not is_input_error(exc):
            raise
        sys.exit(report_error(name, error_message(exc)))
    if isinstance(code, int) and code:  # a normal end falls through (runpy callers too)
        sys.exit(code)
