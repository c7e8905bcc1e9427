"""A checkpoint of another model or class set is refused in one line; partial loads are declared."""
import os.path as osp

import pytest
from mmengine.config import Config

from aliprod_plugins.engine.checkpoint_match import SKIP_KEY, check_checkpoint, dataset_classes
from aliprod_plugins.testing.tiny_checkpoint import REPO_ROOT, write_untrained_checkpoint

DEMO = osp.join(REPO_ROOT, 'configs', 'demo')
DIGITS = [f'{i:05d}' for i in range(10)]


@pytest.fixture(scope='module')
def digits_ckpt(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp('match') / 'digits.pth'
    return write_untrained_checkpoint(str(path), osp.join(DEMO, 'digits_lt_stage1.py'), DIGITS)


def config(name: str) -> Config:
    return Config.fromfile(osp.join(DEMO, name))


def test_the_checkpoint_of_the_same_config_fits(digits_ckpt):
    cfg = config('digits_lt_stage1.py')
    assert dataset_classes(cfg, 'test_dataloader') == tuple(DIGITS)
    check_checkpoint(cfg, digits_ckpt, classes=dataset_classes(cfg, 'test_dataloader'))


def test_another_head_is_refused_naming_both_shapes(digits_ckpt):
    cfg = config('glyphs_lt_stage1.py')
    with pytest.raises(ValueError) as err:
        check_checkpoint(cfg, digits_ckpt, classes=dataset_classes(cfg, 'test_dataloader'))
    message = str(err.value)
    assert '\n' not in message
    assert message.startswith(f'checkpoint {digits_ckpt!r} does not fit the config ')
    assert 'head.fc.weight is [10, 128] in the checkpoint, [1000, 128] in the config' in message
    assert 'class ids differ: 10 classes (00000, 00001, 00002, ...) in the checkpoint, 1000 ' \
           'classes' in message


def test_other_class_ids_of_the_same_shape_are_refused(tmp_path):
    ckpt = write_untrained_checkpoint(str(tmp_path / 'ids.pth'),
                                      osp.join(DEMO, 'digits_lt_stage1.py'),
                                      [f'{i:05d}' for i in range(1, 11)])
    with pytest.raises(ValueError, match=r'does not fit .*: class ids differ: 10 classes '
                       r'\(00001, 00002, 00003, \.\.\.\) in the checkpoint, 10 classes \(00000, '):
        check_checkpoint(config('digits_lt_stage1.py'), ckpt, classes=DIGITS)


def test_a_declared_partial_load_passes_and_only_that(digits_ckpt):
    lws = config('digits_lt_stage2_lws.py')
    with pytest.raises(ValueError, match=r"1 key\(s\) missing from the checkpoint \(head.scales\)"
                       r".*e\.g\. load_from_skip = \['head.'\]"):
        check_checkpoint(lws, digits_ckpt, 'load_from')
    check_checkpoint(lws, digits_ckpt, 'load_from', skip=lws[SKIP_KEY])  # the config says so
    crt = config('digits_lt_stage2_crt.py')
    crt.merge_from_dict({'model.head.num_classes': 7})  # any head: cRT re-initialises it
    check_checkpoint(crt, digits_ckpt, 'load_from', classes=['x'] * 7, skip=crt[SKIP_KEY])
    crt.merge_from_dict({'model.backbone.base_channels': 8})  # the backbone still has to fit
    with pytest.raises(ValueError, match=r'backbone\.\S+ is \[\d+(, \d+)*\] in the checkpoint'):
        check_checkpoint(crt, digits_ckpt, 'load_from', skip=crt[SKIP_KEY])


def test_missing_and_unreadable_checkpoints(tmp_path):
    cfg = config('digits_lt_stage1.py')
    with pytest.raises(FileNotFoundError, match=r"checkpoint '.*nope\.pth' does not exist"):
        check_checkpoint(cfg, str(tmp_path / 'nope.pth'))
    (tmp_path / 'junk.pth').write_bytes(b'abc')
    with pytest.raises(ValueError, match=r"checkpoint '.*junk\.pth' cannot be read: "):
        check_checkpoint(cfg, str(tmp_path / 'junk.pth'))
