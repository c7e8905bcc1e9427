"""Bit-exact resume holds with the fused ``RandomResizedCropFlipPack`` in the train pipeline.

Real ``tools/train.py`` runs of the demo stage-1 config on the tiny root, its pipeline
replaced by the packed configs' one (decode, then the fused crop-resize-flip-pack): SIGTERM in
the middle of the epoch (checkpoint of that iteration, exit 75), ``--resume``, and the weights
at the end equal those of an uninterrupted run, bit for bit.
"""
import os.path as osp

import torch

from aliprod_plugins.engine import PREEMPTED_EXIT_CODE, safe_load
from conftest import REPO_ROOT, demo_overrides, run_until

CONFIG = f'''_base_ = [{osp.join(REPO_ROOT, 'configs', 'demo', 'digits_lt_stage1.py')!r}]
train_dataloader = dict(dataset=dict(pipeline=[
    dict(type='LoadImageScaled', min_size=32),
    dict(type='RandomResizedCropFlipPack', scale=24, crop_ratio_range=(0.6, 1.0),
         flip_prob=0.5),
]))
'''


def _train(config, work_dir, data_root, *extra, stop_at=None):
    args = ['python', osp.join(REPO_ROOT, 'tools', 'train.py'), config, '--work-dir',
            str(work_dir), '--no-validate', *extra, '--cfg-options',
            *demo_overrides(data_root, max_epochs=1), 'randomness.deterministic=True']
    return run_until(args, until=stop_at)


def test_sigterm_and_resume_with_the_fused_transform_is_bit_exact(tiny_root, tmp_path):
    config = tmp_path / 'fused.py'
    config.write_text(CONFIG)
    code, log = _train(config, tmp_path / 'reference', tiny_root)
    assert code == 0, log[-4000:]
    code, log = _train(config, tmp_path / 'cut', tiny_root, stop_at=r'Epoch\(train\) \[1\]\[3/')
    assert code == PREEMPTED_EXIT_CODE, log[-4000:]
    assert 'RandomResizedCropFlipPack' in open(tmp_path / 'cut' / 'fused.py').read()
    code, log = _train(config, tmp_path / 'cut', tiny_root, '--resume')
    assert code == 0, log[-4000:]
    expected = safe_load(str(tmp_path / 'reference' / 'epoch_1.pth'), map_location='cpu')
    actual = safe_load(str(tmp_path / 'cut' / 'epoch_1.pth'), map_location='cpu')
    differ = [k for k, v in expected['state_dict'].items()
              if not torch.equal(v, actual['state_dict'][k])]
    assert not differ, f'{len(differ)} tensors differ, e.g. {differ[:3]}'
