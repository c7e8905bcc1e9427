"""cli.args: the flags several tools share, and a checked flag as a usage error."""
import argparse
import os
import os.path as osp
import re
import runpy
import sys

import pytest
from conftest import REPO_ROOT

from aliprod_plugins.checks import check_int, check_number
from aliprod_plugins.cli import (add_launcher_args, add_model_args, add_shot_args, check_flag,
                                 parse_launcher_args)


@pytest.mark.parametrize('argv,env,expected', [
    (['--local-rank', '3'], None, '3'),   # torch.distributed.launch passes the flag
    (['--local_rank', '2'], None, '2'),
    ([], None, '0'),
    (['--local-rank', '3'], '5', '5'),    # torchrun sets LOCAL_RANK itself: kept
])
def test_local_rank_reaches_the_environment(monkeypatch, argv, env, expected):
    # setenv first, so that monkeypatch restores the variable (or its absence) afterwards: the
    # tool under test writes LOCAL_RANK, which must not leak into later tests' subprocesses
    monkeypatch.setenv('LOCAL_RANK', env or '0')
    if env is None:
        monkeypatch.delenv('LOCAL_RANK')
    monkeypatch.setattr(sys, 'argv', ['train.py', *argv, '--launcher', 'pytorch'])
    parser = argparse.ArgumentParser()
    add_launcher_args(parser)
    args = parse_launcher_args(parser)
    assert args.launcher == 'pytorch'
    assert os.environ['LOCAL_RANK'] == expected


def test_model_and_shot_flags():
    parser = argparse.ArgumentParser()
    add_model_args(parser)
    add_shot_args(parser, 'draw the')
    args = parser.parse_args(['c.py', 'e.pth', '--few-shot-thr', '7'])
    assert (args.config, args.checkpoint, args.many_shot_thr, args.few_shot_thr) == \
        ('c.py', 'e.pth', 100, 7)
    assert parser.parse_args(['c.py', 'e.pth']).few_shot_thr == 20
    assert 'draw the many-shot threshold (default: 100)' in ' '.join(parser.format_help().split())


@pytest.mark.parametrize('check,value,bounds,message', [
    (check_int, 0, dict(low=1), '--n expected an int >= 1, got 0'),
    (check_int, 101, dict(low=1, high=100), r'--n expected an int in \[1, 100\], got 101'),
    (check_number, 0.0, dict(low=0, low_open=True), '--n expected a number > 0, got 0.0'),
])
def test_check_flag_is_a_usage_error(capsys, check, value, bounds, message):
    parser = argparse.ArgumentParser(prog='tool.py')
    with pytest.raises(SystemExit) as exit_info:
        check_flag(parser, check, '--n', value, **bounds)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith('usage: tool.py')
    assert re.search(f'tool.py: error: {message}$', err.strip())
    assert check_flag(parser, check_int, '--n', 4, low=1) == 4


@pytest.mark.parametrize('tool,argv,message', [
    ('pack_lmdb.py', ['c.py', '--split', 'train', '--quality', '101'],
     r'--quality expected an int in \[1, 100\], got 101'),
    ('infer.py', ['c.py', 'e.pth', 'x.jpg', '--num-workers', '-1'],
     '--num-workers expected an int >= 0, got -1'),
    ('export_onnx.py', ['c.py', 'e.pth', '--out', 'm.onnx', '--atol', '0'],
     '--atol expected a number > 0, got 0.0'),
])
def test_tools_refuse_a_bad_flag_before_any_work(capsys, tool, argv, message):
    parse_args = runpy.run_path(osp.join(REPO_ROOT, 'tools', tool))['parse_args']
    with pytest.raises(SystemExit) as exit_info:
        parse_args(argv)
    assert exit_info.value.code == 2
    assert re.search(f'error: {message}$', capsys.readouterr().err.strip())


@pytest.mark.parametrize('argv,message', [
    (['a.csv', '--bins', '0'], '--bins expected an int >= 1, got 0'),
    (['a.csv', '--max-points', '-1'], '--max-points expected an int >= 0, got -1'),
])
def test_plot_per_class_acc_refuses_bad_counts(argv, message):
    tool = runpy.run_path(osp.join(REPO_ROOT, 'tools', 'analysis', 'plot_per_class_acc.py'))
    with pytest.raises(ValueError, match=f'^{message}$'):
        tool['parse_args'](argv)
