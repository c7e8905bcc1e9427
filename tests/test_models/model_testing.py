"""A tiny ImageClassifier for the model tests (CPU, seconds)."""
from typing import Optional

import torch
from mmpretrain.registry import MODELS

import aliprod_plugins  # noqa: F401  registration


def tiny_classifier(loss: Optional[dict] = None, num_classes: int = 3,
                    head_type: str = 'LinearClsHead'):
    """A ResNet_CIFAR-18 (8 channels) classifier, seeded, with the given head and loss.

    Args:
        loss (dict, optional): The head's loss config. Defaults to None (the head's default).
        num_classes (int): Classes of the head. Defaults to 3.
        head_type (str): The head's type. Defaults to 'LinearClsHead'.
    """
    torch.manual_seed(0)
    head = dict(type=head_type, num_classes=num_classes, in_channels=64)
    if loss is not None:
        head['loss'] = loss
    return MODELS.build(dict(
        type='ImageClassifier',
        backbone=dict(type='ResNet_CIFAR', depth=18, stem_channels=8, base_channels=8,
                      out_indices=(3, )),
        neck=dict(type='GlobalAveragePooling'), head=head))
