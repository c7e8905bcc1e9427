"""Rough edges a new user hit trying the README commands: --amp on CPU, a third-party warning."""
import os.path as osp
import sys
import warnings
from types import SimpleNamespace

import pytest
from conftest import REPO_ROOT, run_tool
from conftest import load_tool as load_tool_module
from mmengine.config import Config

DEMO = osp.join(REPO_ROOT, 'configs', 'demo', 'digits_lt_stage1.py')
BF16 = osp.join(REPO_ROOT, 'configs', 'aliprod', 'resnest50_stage1_amp-bf16.py')


def train_args(config, **kwargs):
    args = dict(config=config, launcher='none', work_dir='/tmp/unused', amp=False, resume=None,
                auto_scale_lr=False, no_pin_memory=False, no_persistent_workers=False,
                cfg_options=None, no_validate=False)
    args.update(kwargs)
    return SimpleNamespace(**args)


@pytest.mark.parametrize('gpu', [False, True])
def test_amp_needs_a_gpu_and_says_so(monkeypatch, gpu):
    tool = load_tool_module('train')
    for name in ('is_cuda_available', 'is_npu_available', 'is_mlu_available',
                 'is_musa_available'):
        monkeypatch.setattr(tool, name, lambda: False)
    monkeypatch.setattr(tool, 'is_cuda_available', lambda: gpu)
    # fp32 configs train on any machine
    cfg = tool.merge_args(Config.fromfile(DEMO), train_args(DEMO))
    assert not issubclass(tool.OPTIM_WRAPPERS.get(cfg.optim_wrapper.get('type', 'OptimWrapper')),
                          tool.AmpOptimWrapper)
    for config, amp in ((DEMO, True), (BF16, False)):  # --amp, or a mixed-precision config
        if gpu:
            cfg = tool.merge_args(Config.fromfile(config), train_args(config, amp=amp))
            assert issubclass(tool.OPTIM_WRAPPERS.get(cfg.optim_wrapper.type),
                              tool.AmpOptimWrapper)
        else:
            with pytest.raises(ValueError, match=r'--amp \(optim_wrapper.type=\w*AmpOptimWrapper'
                               r'\) expects a GPU'):
                tool.merge_args(Config.fromfile(config), train_args(config, amp=amp))


@pytest.mark.skipif(__import__('torch').cuda.is_available(), reason='a CPU-only machine')
def test_train_amp_on_cpu_stops_with_our_message(tmp_path):
    proc = run_tool([sys.executable, osp.join(REPO_ROOT, 'tools', 'train.py'), DEMO, '--amp',
                     '--work-dir', str(tmp_path)], check=False)
    assert proc.returncode != 0
    assert 'tools/train.py: error: --amp (optim_wrapper.type=' in proc.stderr
    assert 'expects a GPU' in proc.stderr
    assert 'Traceback' not in proc.stderr and 'AssertionError' not in proc.stderr
    assert 'MultiScaleDeformableAttention' not in proc.stderr


def test_only_the_mmcv_lite_deform_attn_warning_is_silenced():
    # (the filter is installed when aliprod_plugins is imported; pytest restores the warning
    # filters it had after importing conftest, so the test installs it again)
    from aliprod_plugins._warnings import silence_mmcv_lite_warning
    module = 'mmcv.cnn.bricks.transformer'
    ours = ('Fail to import ``MultiScaleDeformableAttention`` from '
            '``mmcv.ops.multi_scale_deform_attn``, You should install ``mmcv`` rather than '
            '``mmcv-lite`` if you need this module. ')
    with warnings.catch_warnings(record=True) as caught:
        # start from no filters, so that PYTHONWARNINGS=ignore (or -W) cannot hide a warning
        # this test expects to see; ours is then the only one that silences anything
        warnings.resetwarnings()
        warnings.simplefilter('always')
        silence_mmcv_lite_warning()
        warnings.warn_explicit(ours, UserWarning, 'transformer.py', 33, module=module,
                               registry={})
        warnings.warn_explicit('Fail to import ``FFN``', UserWarning, 'transformer.py', 40,
                               module=module, registry={})
        warnings.warn_explicit(ours, UserWarning, 'elsewhere.py', 1, module='elsewhere',
                               registry={})
        warnings.warn_explicit(ours, DeprecationWarning, 'transformer.py', 33, module=module,
                               registry={})
    assert [(str(w.message)[:24], w.filename) for w in caught] == [
        ('Fail to import ``FFN``', 'transformer.py'), (ours[:24], 'elsewhere.py'),
        (ours[:24], 'transformer.py')]


@pytest.mark.parametrize('name,scaled', [('aliprod/resnest50_stage1.py', True),
                                         ('aliprod/resnest50_two_stage.py', True),
                                         ('aliprod/resnest50_stage2.py', False),
                                         ('aliprod/resnest50_stage2_crt.py', False),
                                         ('demo/digits_lt_stage2.py', False)])
def test_auto_scale_lr_leaves_the_absolute_stage2_lr_alone(name, scaled):
    tool = load_tool_module('train')
    config = osp.join(REPO_ROOT, 'configs', name)
    cfg = tool.merge_args(Config.fromfile(config), train_args(config, auto_scale_lr=True))
    assert cfg.auto_scale_lr.enable is scaled
