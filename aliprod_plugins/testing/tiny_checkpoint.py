"""A demo config on a generated data root and an untrained checkpoint shaped like a real one."""
import os.path as osp
from typing import Sequence, Tuple

import torch
from mmengine.config import Config
from mmengine.logging import MessageHub
from mmengine.registry import DefaultScope

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEMO_CONFIG = osp.join(REPO_ROOT, 'configs', 'demo', 'digits_lt_two_stage.py')


def write_demo_config(path: str, data_root: str, num_classes: int,
                      config: str = DEMO_CONFIG, classes: Sequence[str] = ()) -> str:
    """Write ``config`` pointed at ``data_root`` with ``num_classes``, one process, batch 4.

    Args:
        path (str): Output ``.py`` file.
        data_root (str): An AliProducts-layout root (``make_aliproducts_root``).
        num_classes (int): Classes of the root.
        config (str): Config to start from. Defaults to the demo's two-stage config.
        classes (Sequence[str]): Class ids of the datasets (``metainfo``); the default 5-digit
            ids when empty. Defaults to ().

    Returns:
        str: ``path``.
    """
    cfg = Config.fromfile(config)
    options = {'model.head.num_classes': num_classes,
               'data_preprocessor.num_classes': num_classes}
    for split in ('train', 'val', 'test'):
        options.update({f'{split}_dataloader.dataset.data_root': data_root,
                        f'{split}_dataloader.dataset.num_classes': num_classes,
                        f'{split}_dataloader.num_workers': 0,
                        f'{split}_dataloader.persistent_workers': False,
                        f'{split}_dataloader.batch_size': 4})
        if classes:
            options[f'{split}_dataloader.dataset.metainfo'] = dict(classes=tuple(classes))
    cfg.merge_from_dict(options)
    cfg.dump(path)
    return path


def write_untrained_checkpoint(path: str, config: str, classes: Sequence[str],
                               seed: int = 0, head_scale: float = 100.0) -> str:
    """Save a randomly initialised model as ``tools/train.py`` would after one step.

    The checkpoint holds ``meta`` (with ``dataset_meta['classes']``), ``state_dict``, the SGD
    ``optimizer`` state (momentum buffers), a ``message_hub`` with a ``HistoryBuffer`` and
    ``param_schedulers``, like MMEngine's. The head's weights are scaled by ``head_scale`` so
    that different images get clearly different scores.

    Args:
        path (str): Output ``.pth`` file.
        config (str): Config of the model.
        classes (Sequence[str]): Class ids stored in ``meta['dataset_meta']``.
        seed (int): Initialisation seed. Defaults to 0.
        head_scale (float): Factor on the classifier's weights. Defaults to 100.

    Returns:
        str: ``path``.
    """
    from mmpretrain.registry import MODELS
    cfg = Config.fromfile(config)
    torch.manual_seed(seed)
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        model = MODELS.build(dict(cfg.model, data_preprocessor=cfg.data_preprocessor))
    with torch.no_grad():
        model.head.fc.weight.mul_(head_scale)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    model.head.fc.weight.sum().backward()
    optimizer.step()
    hub = MessageHub.get_instance(f'tiny_checkpoint_{seed}')
    hub.update_scalar('train/loss', 1.5)
    torch.save({
        'meta': {'epoch': 1, 'iter': 1, 'seed': seed, 'dataset_meta': {'classes': tuple(classes)}},
        'state_dict': model.state_dict(),
        'optimizer': optimizer.state_dict(),
        'message_hub': hub.state_dict(),
        'param_schedulers': [{'milestones': {20: 1}, 'last_epoch': 1, 'gamma': 0.1}],
    }, path)
    return path


def tiny_predict_setup(folder: str, data_root: str, classes: Sequence[str]) -> Tuple[str, str]:
    """Write the demo config on ``data_root`` and its untrained checkpoint into ``folder``.

    Returns:
        tuple: ``(config path, checkpoint path)``.
    """
    cfg = write_demo_config(osp.join(folder, 'tiny_demo.py'), data_root, len(classes),
                            classes=classes)
    return cfg, write_untrained_checkpoint(osp.join(folder, 'tiny_demo.pth'), cfg, classes)


def make_mirror_pairs_root(root: str, num_classes: int = 4, size: int = 32, seed: int = 0) -> str:
    """An AliProducts-layout root whose ``val`` holds left-right asymmetric images in pairs.

    Each class has two val images, a random left-to-right ramp and its exact mirror (PNG
    content, named ``.jpg`` as the dataset lists them: the loader detects the format), so
    that with flip TTA both images of a pair get identical scores. ``train`` holds three
    noisy solid-colour images per class.

    Args:
        root (str): Folder to create.
        num_classes (int): Classes. Defaults to 4.
        size (int): Square image side. Defaults to 32.
        seed (int): Random seed. Defaults to 0.

    Returns:
        str: ``root``.
    """
    import json

    import numpy as np
    from PIL import Image

    from .synthetic import make_aliproducts_root
    make_aliproducts_root(root, train_counts=[3] * num_classes, val_counts=[2] * num_classes,
                          size=(size, size), seed=seed)
    rng = np.random.default_rng(seed)
    with open(osp.join(root, 'val.json')) as f:
        entries = json.load(f)['images']
    ramp = np.linspace(0.0, 1.0, size)[None, :, None]
    for first, second in zip(entries[0::2], entries[1::2]):
        left, right = rng.integers(0, 256, size=(2, 1, 1, 3))
        img = (left + (right - left) * ramp + rng.integers(-25, 26, size=(size, size, 3)))
        img = np.clip(img, 0, 255).astype(np.uint8)
        for entry, pixels in ((first, img), (second, img[:, ::-1])):
            path = osp.join(root, 'val', entry['class_id'], entry['image_id'])
            Image.fromarray(np.ascontiguousarray(pixels)).save(path, format='PNG')
    return root
