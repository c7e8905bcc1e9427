"""Preemption (SIGTERM -> checkpoint of that iteration, exit 75) and bit-exact resume.

Real ``tools/train.py`` processes on a tiny generated root: the two-stage demo config shrunk to
2 epochs of 7 iterations (switch to class-balanced sampling at epoch 1), deterministic, with
Mixup so that the training process itself draws random numbers (numpy and torch) every step.
Interrupted runs, resumed with ``--resume`` from what they left, must end bit-identical to an
uninterrupted one, whatever ``num_workers`` / ``persistent_workers``.
"""
import glob
import os.path as osp
import re
import signal

import pytest
import torch
from mmengine.config import Config

from aliprod_plugins.engine import PREEMPTED_EXIT_CODE, safe_load
from conftest import REPO_ROOT, demo_overrides, run_until

CONFIG = osp.join(REPO_ROOT, 'configs', 'demo', 'digits_lt_two_stage.py')
ITERS = 7  # 28 training images / batch 4


def train(work_dir, data_root, workers, *extra, until=None, send=None):
    """Run tools/train.py; when a log line matches ``until``, send it ``send``.

    Returns:
        tuple: (exit code, the output so far).
    """
    persistent = workers > 0 and 'persistent' in extra
    args = ['python', osp.join(REPO_ROOT, 'tools', 'train.py'), CONFIG, '--work-dir',
            str(work_dir), *[a for a in extra if a != 'persistent'], '--cfg-options',
            *demo_overrides(data_root, max_epochs=2), 'custom_hooks.0.switch_epoch=1',
            'randomness.deterministic=True', f'train_dataloader.num_workers={workers}',
            f'train_dataloader.persistent_workers={persistent}', '--cfg-options-new',
            'model.train_cfg.augments.type=Mixup', 'model.train_cfg.augments.alpha=0.4']
    return run_until(args, until=until, send=send)


def weights(work_dir, name='epoch_2.pth'):
    return safe_load(osp.join(str(work_dir), name), map_location='cpu')['state_dict']


def assert_bit_identical(actual, expected):
    assert actual.keys() == expected.keys()
    differ = [k for k in expected if not torch.equal(actual[k], expected[k])]
    assert not differ, f'{len(differ)} tensors differ, e.g. {differ[:3]}'


def train_lines(log):
    return re.findall(r'Epoch\(train\) \[\s*(\d+)\]\[\s*(\d+)/\d+\]', log)


@pytest.fixture(scope='module')
def reference(tiny_root, tmp_path_factory):
    """Uninterrupted, 2 workers that restart every epoch."""
    work_dir = tmp_path_factory.mktemp('reference')
    code, log = train(work_dir, tiny_root, 2)
    assert code == 0, log[-6000:]
    assert len(train_lines(log)) == 2 * ITERS
    return weights(work_dir)


def test_sigterm_mid_epoch_saves_that_iteration_exits_75_and_resumes_bit_exactly(
        reference, tiny_root, tmp_path):
    code, log = train(tmp_path, tiny_root, 0, until=r'Epoch\(train\) \[1\]\[2/7\]',
                      send=signal.SIGTERM)
    assert code == PREEMPTED_EXIT_CODE == 75, log[-6000:]
    stopped = int(re.search(r'Preemption \(SIGTERM\): stopping after iteration (\d+) \(epoch 1, '
                            r'batch \1/7\)', log).group(1))
    assert 2 <= stopped < ITERS, 'the signal was meant to arrive in the middle of epoch 1'
    assert train_lines(log)[-1] == ('1', str(stopped))  # it finished that iteration, no more
    path = osp.join(str(tmp_path), f'iter_{stopped}.pth')
    assert f'Preempted: saved {path}' in log
    assert open(osp.join(str(tmp_path), 'last_checkpoint')).read() == path
    ckpt = safe_load(path, map_location='cpu')
    assert (ckpt['meta']['epoch'], ckpt['meta']['iter'], ckpt['meta']['inner_iter']) == \
        (0, stopped, stopped)
    assert ckpt['rng_state']['world_size'] == 1
    assert set(ckpt['rng_state']['ranks'][0]) >= {'python', 'numpy', 'torch'}

    code, log = train(tmp_path, tiny_root, 0, '--resume')
    assert code == 0, log[-6000:]
    assert f'resumed epoch: 0, iter: {stopped}' in log
    expected = [('1', str(i)) for i in range(stopped + 1, ITERS + 1)] + \
        [('2', str(i)) for i in range(1, ITERS + 1)]
    assert train_lines(log) == expected  # the rest of epoch 1, then epoch 2 (stage 2)
    assert_bit_identical(weights(tmp_path), reference)
    # epoch_1.pth supersedes the snapshot: rotation removed it
    assert not osp.exists(path)
    assert f'removed the preemption snapshot iter_{stopped}.pth, superseded by epoch_1.pth' in log
    # the stage-1 model, saved before the switch epoch's first batch, resumes from that batch
    kept = safe_load(osp.join(str(tmp_path), 'stage1_final.pth'), map_location='cpu')['meta']
    assert (kept['epoch'], kept['iter'], kept['inner_iter']) == (1, ITERS, 0)


def test_sigkill_in_a_save_then_sigterm_in_the_switch_epoch_with_persistent_workers(
        reference, tiny_root, tmp_path):
    code, log = train(tmp_path, tiny_root, 2, 'persistent', until='Saving checkpoint at 1 epochs',
                      send=signal.SIGKILL)
    assert code == -signal.SIGKILL, log[-6000:]
    # resumed from what the kill left (epoch_1.pth if its save completed), killed again in
    # the middle of the first stage-2 epoch
    code, log = train(tmp_path, tiny_root, 2, 'persistent', '--resume',
                      until=r'Epoch\(train\) \[2\]\[2/7\]', send=signal.SIGTERM)
    assert code == PREEMPTED_EXIT_CODE, log[-6000:]
    stopped = int(re.search(r'stopping after iteration (\d+) \(epoch 2', log).group(1))
    assert ITERS + 2 <= stopped < 2 * ITERS
    assert 'StageSwitchHook: epoch 1: switched to stage 2' in log

    code, log = train(tmp_path, tiny_root, 2, 'persistent', '--resume')
    assert code == 0, log[-6000:]
    assert f'resumed epoch: 1, iter: {stopped}' in log
    assert 'StageSwitchHook: epoch 1: restored (resumed after the switch) stage 2' in log
    assert train_lines(log)[0] == ('2', str(stopped - ITERS + 1))
    assert_bit_identical(weights(tmp_path), reference)


@pytest.mark.parametrize('config', sorted(
    glob.glob(osp.join(REPO_ROOT, 'configs', 'aliprod', '*.py'))
    + glob.glob(osp.join(REPO_ROOT, 'configs', 'demo', '*.py'))))
def test_every_training_config_uses_the_resumable_loop(config):
    cfg = Config.fromfile(config)
    assert cfg.train_cfg.type == 'ResumableEpochBasedTrainLoop'
    assert 'by_epoch' not in cfg.train_cfg  # MMEngine refuses `type` with `by_epoch`
