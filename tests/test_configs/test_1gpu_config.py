"""``resnest50_stage1_1gpu.py`` is the recipe with its total batch of 512 on one device."""
import os.path as osp

from mmengine.config import Config

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def _load(name: str) -> dict:
    return Config.fromfile(osp.join(REPO, 'configs', 'aliprod', name)).to_dict()


def test_batch_512_on_one_device_with_the_recipes_lr_and_nothing_else_changed():
    one, eight = _load('resnest50_stage1_1gpu.py'), _load('resnest50_stage1.py')
    assert one['train_dataloader']['batch_size'] == 512 == 8 * eight['train_dataloader'][
        'batch_size']
    assert one['optim_wrapper']['optimizer']['lr'] == 0.5
    assert one['auto_scale_lr']['base_batch_size'] == 512  # --auto-scale-lr: x1 on one GPU
    for cfg in (one, eight):  # the loader settings that may differ
        cfg['train_dataloader'].pop('batch_size')
        cfg['train_dataloader'].pop('num_workers')
    assert one == eight
