"""Every tool: one-line errors for bad input (exit 2, before the Runner), checked --cfg-options."""
import os.path as osp
import re
import sys
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from conftest import REPO_ROOT, run_tool
from mmengine.config import Config
from PIL import Image

from aliprod_plugins.cli import errors, is_input_error
from aliprod_plugins.cli.cfg_options import check_key
from aliprod_plugins.engine.atomic_io import atomic_write_bytes
from aliprod_plugins.models.class_prior_hook import ClassPriorHook
from aliprod_plugins.testing.tiny_checkpoint import write_untrained_checkpoint

DEMO = osp.join(REPO_ROOT, 'configs', 'demo')
GLYPHS = osp.join(DEMO, 'glyphs_lt_stage1.py')
TWO_STAGE = osp.join(DEMO, 'glyphs_lt_two_stage.py')
ENV_DUMP = 'System environment'  # the first line MMEngine's Runner prints


def raised(fn, *args):
    try:
        fn(*args)
    except Exception as exc:  # noqa: BLE001
        return exc
    raise AssertionError(f'{fn} did not raise')


def test_our_input_errors_are_told_apart_from_bugs(tmp_path):
    cfg = Config.fromfile(GLYPHS)
    assert is_input_error(raised(check_key, cfg, 'train_cfg.max_epoch'))  # our `raise`
    assert not is_input_error(raised(np.asarray, [1, [2, 3]]))  # numpy's ValueError
    # numpy's ValueError inside our code: not a `raise` of ours, so not an input error
    hook, bad = ClassPriorHook(), {'meta': {'class_prior': {'counts': ['x']}}}
    assert not is_input_error(raised(hook.after_load_checkpoint, SimpleNamespace(_resume=True),
                                     bad))
    assert not is_input_error(raised(atomic_write_bytes, tmp_path / 'x', 'str'))  # a TypeError
    assert not is_input_error(raised(int, 'x'))  # raised by a builtin, not by a raise of ours


def tool_main(exc):
    def main(argv=None):
        raise exc
    return main


@pytest.mark.parametrize('argv,env,shortened', [([], None, True), (['--debug'], None, False),
                                                ([], '1', False), ([], '0', True)])
def test_run_tool_one_line_unless_debug(monkeypatch, capsys, argv, env, shortened):
    if env is None:
        monkeypatch.delenv(errors.DEBUG_ENV, raising=False)
    else:
        monkeypatch.setenv(errors.DEBUG_ENV, env)
    exc = raised(check_key, Config.fromfile(GLYPHS), 'randomnes.seed')
    if shortened:
        with pytest.raises(SystemExit) as stop:
            errors.run_tool(tool_main(exc), argv)
        assert stop.value.code == 2
        last = capsys.readouterr().err.splitlines()[-1]
        assert last == ("tests/test_tools/test_cli.py: error: --cfg-options: 'randomnes.seed' is "
                        "not in the config (no key 'randomnes' in the top level); did you mean "
                        "'randomness.seed'? (use --cfg-options-new for a key meant to be new)")
    else:
        with pytest.raises(ValueError, match='randomnes'):
            errors.run_tool(tool_main(exc), argv)


def test_run_tool_keeps_unexpected_errors_and_shortens_sys_exit(capsys):
    with pytest.raises(ZeroDivisionError):
        errors.run_tool(tool_main(ZeroDivisionError('a bug')), [])
    with pytest.raises(SystemExit) as stop:
        errors.run_tool(tool_main(SystemExit('test_cli: refusing to add to the pack')), [])
    assert stop.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == \
        'tests/test_tools/test_cli.py: error: refusing to add to the pack'
    with pytest.raises(SystemExit) as stop:
        errors.run_tool(lambda argv: 3, [])
    assert stop.value.code == 3
    errors.run_tool(lambda argv: 0, [])  # a normal end returns (runpy callers go on)


@pytest.mark.parametrize('key,expected', [
    ('randomnes.seed', r"did you mean 'randomness\.seed'\?"),
    ('train_cfg.max_epoch', r"did you mean 'train_cfg\.max_epochs'\?"),
    ('custom_hooks.5.switch_epoch', r'custom_hooks is a list of \d+ item\(s\), .5. does not'),
    ('train_cfg.max_epochs.x', r'train_cfg\.max_epochs is \d+, not a dict'),
])
def test_unknown_option_keys_are_refused_naming_the_closest(key, expected):
    with pytest.raises(ValueError) as err:
        check_key(Config.fromfile(TWO_STAGE), key)
    assert str(err.value).startswith(f'--cfg-options: {key!r} is not in the config (')
    assert re.search(expected, str(err.value)), str(err.value)


def test_existing_list_and_new_keys_pass():
    cfg = Config.fromfile(TWO_STAGE)
    for key in ('train_cfg.max_epochs', 'custom_hooks.0.switch_epoch', 'randomness.seed',
                'train_dataloader.dataset.data_root'):
        check_key(cfg, key)
    # arguments of the dict's registered type pass, even where the config leaves the default
    check_key(cfg, 'default_hooks.logger.ignore_last')
    check_key(cfg, 'train_dataloader.dataset.cache_index')
    with pytest.raises(ValueError, match=r"'default_hooks\.logger\.ignore_lst' is not"):
        check_key(cfg, 'default_hooks.logger.ignore_lst')
    check_key(cfg, 'model.head.topk', new=True)
    check_key(cfg, 'model.train_cfg.augments.type', new=True)  # ImageClassifier's train_cfg
    with pytest.raises(ValueError, match=r"'model.train_cfg.augments.type' is not in the config"):
        check_key(cfg, 'model.train_cfg.augments.type')
    with pytest.raises(ValueError, match=r"--cfg-options-new: 'model.haed.topk' .*no key "
                                         r"'haed' in model"):
        check_key(cfg, 'model.haed.topk', new=True)


def tool(*args, **kwargs):
    return run_tool([sys.executable, *args], check=False, **kwargs)


def assert_one_line_error(proc, name: str, *parts: str) -> str:
    assert proc.returncode == 2, proc.stderr[-3000:]
    last = proc.stderr.rstrip('\n').splitlines()[-1]
    assert last.startswith(f'{name}: error: '), proc.stderr[-3000:]
    for part in parts:
        assert part in last, last
    assert 'Traceback' not in proc.stderr and ENV_DUMP not in proc.stdout + proc.stderr
    return last


@pytest.fixture(scope='module')
def digits_ckpt(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp('cli') / 'digits.pth'
    return write_untrained_checkpoint(str(path), osp.join(DEMO, 'digits_lt_stage1.py'),
                                      [f'{i:05d}' for i in range(10)])


def test_test_tool_refuses_a_checkpoint_of_another_config(tmp_path, digits_ckpt):
    proc = tool('tools/test.py', GLYPHS, digits_ckpt, '--work-dir', str(tmp_path))
    assert_one_line_error(proc, 'tools/test.py', f'checkpoint {digits_ckpt!r} does not fit',
                          'head.fc.weight is [10, 128] in the checkpoint, [1000, 128] in the '
                          'config', 'class ids differ')
    missing = str(tmp_path / 'missing.pth')
    proc = tool('tools/test.py', GLYPHS, missing, '--work-dir', str(tmp_path))
    assert_one_line_error(proc, 'tools/test.py', f'checkpoint {missing!r} does not exist')
    proc = tool('tools/test.py', GLYPHS, missing, '--debug')  # the traceback on request
    assert proc.returncode == 1 and 'Traceback' in proc.stderr


def test_test_tool_names_a_missing_annotation_before_the_runner(tmp_path, digits_ckpt):
    proc = tool('tools/test.py', osp.join(DEMO, 'digits_lt_stage1.py'), digits_ckpt,
                '--cfg-options', f'test_dataloader.dataset.data_root={tmp_path}/none')
    assert_one_line_error(proc, 'tools/test.py', 'test_dataloader.dataset: annotation file '
                          f"'{tmp_path}/none/val.json' does not exist (data_root "
                          f"'{tmp_path}/none' does not exist)")


def test_train_tool_refuses_option_typos_and_a_mismatched_load_from(tmp_path, digits_ckpt):
    proc = tool('tools/train.py', TWO_STAGE, '--cfg-options', 'train_cfg.max_epoch=3',
                '--work-dir', str(tmp_path))
    assert_one_line_error(proc, 'tools/train.py', "did you mean 'train_cfg.max_epochs'?")
    proc = tool('tools/train.py', GLYPHS, '--cfg-options', f'load_from={digits_ckpt}',
                '--work-dir', str(tmp_path))
    assert_one_line_error(proc, 'tools/train.py', f'load_from {digits_ckpt!r} does not fit',
                          '[10, 128] in the checkpoint, [1000, 128] in the config',
                          "load_from_skip = ['head.']")


def test_infer_refuses_a_checkpoint_of_another_config(tmp_path, digits_ckpt):
    Image.new('L', (28, 28)).save(tmp_path / 'a.png')
    proc = tool('tools/infer.py', GLYPHS, digits_ckpt, str(tmp_path), '--out',
                str(tmp_path / 'p.csv'))
    assert_one_line_error(proc, 'tools/infer.py', 'head.fc.weight is [10, 128]')


class _BadAnnotationDataset(torch.utils.data.Dataset):
    def __len__(self) -> int:
        return 2

    def __getitem__(self, idx: int):
        check_key(Config(dict(a=1)), 'b')  # our ValueError, raised inside the worker


def test_an_input_error_in_a_dataloader_worker_is_one_line_too(capsys):
    def main(argv=None):
        loader = torch.utils.data.DataLoader(_BadAnnotationDataset(), num_workers=1)
        next(iter(loader))

    with pytest.raises(SystemExit) as stop:
        errors.run_tool(main, [])
    assert stop.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        "tests/test_tools/test_cli.py: error: --cfg-options: 'b' is not in the config (no key "
        "'b' in the top level) (use --cfg-options-new for a key meant to be new)")
