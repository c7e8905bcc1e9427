"""Flags that several tools share, defined once (model, device, launcher, shot groups), and
their checks as usage errors.

    parser = argparse.ArgumentParser(description='...')
    add_model_args(parser)                 # CONFIG CHECKPOINT
    add_device_arg(parser, 'torch device')  # --device, cuda when available
    add_launcher_args(parser)              # --launcher, --local-rank (train.py, test.py)
    args = parse_launcher_args(parser)     # LOCAL_RANK exported for MMEngine
    check_flag(parser, check_int, '--workers', args.workers, low=1)  # usage error if bad
"""
import argparse
import os
from typing import Callable

import torch

#: help of the checkpoint of a tool that also takes a published one
CHECKPOINT_HELP = 'checkpoint file (tools/train.py or publish_model.py)'


def add_model_args(parser: argparse.ArgumentParser, config_help: str = 'config file path',
                   checkpoint_help: str = 'checkpoint file') -> None:
    """Add the positional ``config`` and ``checkpoint`` of a tool that loads a trained model.

    Args:
        parser (ArgumentParser): Where the arguments go.
        config_help (str): Help of ``config``. Defaults to 'config file path'.
        checkpoint_help (str): Help of ``checkpoint``. Defaults to 'checkpoint file'.
    """
    parser.add_argument('config', help=config_help)
    parser.add_argument('checkpoint', help=checkpoint_help)


def add_device_arg(parser: argparse.ArgumentParser,
                   help_text: str = 'torch device (default: cuda if available, else cpu)'
                   ) -> None:
    """Add ``--device``, defaulting to ``cuda`` when a GPU is visible, else ``cpu``.

    Args:
        parser (ArgumentParser): Where the flag goes (a parser or an argument group).
        help_text (str): Its help. Defaults to 'torch device (default: cuda if available,
            else cpu)'.
    """
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu',
                        help=help_text)


def add_launcher_args(parser: argparse.ArgumentParser) -> None:
    """Add MMPretrain's ``--launcher`` and ``--local_rank`` / ``--local-rank``.

    Args:
        parser (ArgumentParser): Where the flags go.
    """
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
                        default='none', help='job launcher')
    # torch.distributed.launch passes --local_rank; torchrun sets LOCAL_RANK.
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)


def parse_launcher_args(parser: argparse.ArgumentParser) -> argparse.Namespace:
    """Parse ``sys.argv``; export ``--local-rank`` as ``LOCAL_RANK`` unless the launcher did.

    Args:
        parser (ArgumentParser): A parser with :func:`add_launcher_args`'s flags.

    Returns:
        Namespace: The parsed flags.
    """
    args = parser.parse_args()
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def check_flag(parser: argparse.ArgumentParser, check: Callable, name: str, value, **bounds):
    """Check a parsed flag with :mod:`aliprod_plugins.checks`; a bad value is a usage error.

    ``check_flag(parser, check_int, '--workers', 0, low=1)`` exits as argparse does for a bad
    flag (usage, then ``error: --workers expected an int >= 1, got 0``, exit code 2).

    Args:
        parser (ArgumentParser): The tool's parser (for the usage line).
        check (Callable): ``check_int``, ``check_number`` or ``check_bool``.
        name (str): The flag, e.g. ``'--workers'``.
        value: Its parsed value.
        **bounds: ``low``, ``high``, ... of ``check``.

    Returns:
        The checked value.
    """
    try:
        return check(name, value, **bounds)
    except ValueError as err:
        parser.error(str(err))


def add_shot_args(parser: argparse.ArgumentParser, help_prefix: str = '') -> None:
    """Add ``--many-shot-thr`` (default 100) and ``--few-shot-thr`` (default 20).

    The shot groups of ``LongTailAccuracy``: many-shot classes have more than
    ``many_shot_thr`` training images, few-shot ones fewer than ``few_shot_thr``.

    Args:
        parser (ArgumentParser): Where the flags go.
        help_prefix (str): Start of each help text, followed by the threshold's name, e.g.
            'draw the' gives 'draw the many-shot threshold (default: 100)'. Defaults to '':
            only '(default: 100)'.
    """
    for name, default in (('many-shot', 100), ('few-shot', 20)):
        text = f'{help_prefix} {name} threshold ' if help_prefix else ''
        parser.add_argument(f'--{name}-thr', type=int, default=default,
                            help=f'{text}(default: {default})')
