"""tools/train.py --tensorboard: the curves read back with TensorBoard's event reader."""
import glob
import math
import os.path as osp

import pytest
from conftest import REPO_ROOT, demo_overrides, run_tool
from mmengine.config import Config

from aliprod_plugins.deploy import MissingExtraError
from aliprod_plugins.testing import make_aliproducts_root
from aliprod_plugins.visualization import enable_tensorboard

event_accumulator = pytest.importorskip(
    'tensorboard.backend.event_processing.event_accumulator',
    reason="tensorboard is in the [deploy] extra: pip install -e '.[deploy]'")

CONFIG = osp.join(REPO_ROOT, 'configs', 'demo', 'digits_lt_stage1.py')


def test_train_writes_the_curves_to_tensorboard(tmp_path):
    root = make_aliproducts_root(str(tmp_path / 'root'), train_counts=[8, 4, 3, 1],
                                 val_counts=[2] * 4, size=(36, 40))
    # one unreadable training image, replaced once per epoch (on_error='resample')
    broken = sorted(glob.glob(osp.join(root, 'train', '00001', '*')))[0]
    with open(broken, 'wb') as f:
        f.write(b'\xff\xd8\xff\xe0 truncated')
    work_dir = str(tmp_path / 'work')
    run_tool(['python', osp.join(REPO_ROOT, 'tools', 'train.py'), CONFIG, '--work-dir', work_dir,
              '--tensorboard', '--cfg-options', *demo_overrides(root, max_epochs=1),
              'train_dataloader.dataset.on_error=resample',
              # classes with > 5 / < 3 training images: every shot group has a class
              'val_evaluator.many_shot_thr=5', 'val_evaluator.few_shot_thr=3'])
    events = glob.glob(osp.join(work_dir, '*', 'vis_data', 'events.out.tfevents.*'))
    assert len(events) == 1, events
    acc = event_accumulator.EventAccumulator(events[0])
    acc.Reload()
    scalars = {tag: [e.value for e in acc.Scalars(tag)] for tag in acc.Tags()['scalars']}
    # 16 images, batch 4, drop_last: 4 iterations, logged every iteration
    for tag in ('loss', 'lr', 'nonfinite_steps', 'bad_images'):
        assert len(scalars.get(tag, ())) == 4, (tag, sorted(scalars))
    assert scalars['lr'] == [pytest.approx(0.1)] * 4  # the schedule's lr, no scaling
    assert scalars['nonfinite_steps'] == [0] * 4
    assert scalars['bad_images'][-1] == 1
    assert all(math.isfinite(v) and v > 0 for v in scalars['loss'])
    for metric in ('top1', 'top5', 'mean_class_acc', 'many_shot_acc', 'medium_shot_acc',
                   'few_shot_acc'):
        values = scalars.get(f'longtail/{metric}')
        assert values is not None and len(values) == 1, (metric, sorted(scalars))
        assert 0 <= values[0] <= 100
    assert scalars['longtail/top5'][0] == 100  # 4 classes: every image is a top-5 hit


def test_enable_tensorboard_adds_the_backend_once():
    cfg = Config(dict(visualizer=dict(type='UniversalVisualizer',
                                      vis_backends=[dict(type='LocalVisBackend')])))
    enable_tensorboard(enable_tensorboard(cfg))
    assert [b['type'] for b in cfg.visualizer.vis_backends] == ['LocalVisBackend',
                                                                'TensorboardVisBackend']


def test_missing_tensorboard_names_the_extra(monkeypatch):
    import importlib
    real = importlib.import_module

    def fake(name, *args):
        if name == 'tensorboard':
            raise ModuleNotFoundError("No module named 'tensorboard'")
        return real(name, *args)

    monkeypatch.setattr(importlib, 'import_module', fake)
    with pytest.raises(MissingExtraError, match=r"pip install -e '\.\[deploy\]'") as info:
        enable_tensorboard(Config(dict()))
    assert '\n' not in str(info.value)
