"""The demo trains, validates and tests from LMDB packs alone (image folders deleted)."""
import os.path as osp
import shutil

from mmengine.registry import init_default_scope
from pack_testing import DEMO_CONFIG, load_tool, make_photo_root, pack

from conftest import REPO_ROOT, demo_overrides, run_tool


def test_demo_trains_validates_and_tests_from_packs_alone(tmp_path):
    init_default_scope('mmpretrain')
    root = make_photo_root(tmp_path / 'root', train_counts=[8, 5, 3])
    tool = load_tool()
    for split in ('train', 'val'):
        pack(tool, root, osp.join(root, 'packs', split), split=split,
             args=('--workers', '2'))
        shutil.rmtree(osp.join(root, split))
    options = demo_overrides(root, num_classes=3, max_epochs=1) + [
        f'{split}_dataloader.dataset.lmdb=packs/{"train" if split == "train" else "val"}'
        for split in ('train', 'val', 'test')
    ] + ['train_dataloader.num_workers=2']  # forked workers open the pack themselves
    work_dir = str(tmp_path / 'work')
    proc = run_tool(['python', osp.join(REPO_ROOT, 'tools', 'train.py'), DEMO_CONFIG,
                     '--work-dir', work_dir, '--cfg-options', *options])
    out = proc.stdout + proc.stderr
    assert 'Epoch(train) [1]' in out and 'Epoch(val) [1]' in out
    assert 'longtail/mean_class_error' in out
    assert 'cannot load image' not in out
    proc = run_tool(['python', osp.join(REPO_ROOT, 'tools', 'test.py'), DEMO_CONFIG,
                     osp.join(work_dir, 'epoch_1.pth'), '--work-dir', str(tmp_path / 'test'),
                     '--cfg-options', *options])
    out = proc.stdout + proc.stderr
    assert 'longtail/top1' in out
    # the shot groups too: training counts come from the annotation, not the pack's loader
    assert 'longtail/few_shot_acc' in out and 'accuracy skipped' not in out
