"""Learnable weight scaling (LWS), a classifier-only second stage (Kang et al., ICLR 2020).

The stage-1 classifier is kept as it is and one scale per class is learnt on top of it, on a
frozen backbone with class-balanced sampling: ``logit_c = s_c * (w_c . x + b_c)``. Kang et al.
scale the classifier vector ``w_c``; we treat the bias as part of that vector, so it is frozen
and scaled too (with a zero bias, as in their classifier, both are the same). The scales start
at 1, so training starts from the stage-1 predictions::

    model = dict(head=dict(type='LWSHead'))
    custom_hooks = [dict(type='StageSwitchHook', switch_epoch=0,
                         sampler=dict(type='ClassBalancedSampler'), freeze_backbone=True)]
    load_from = 'work_dirs/stage1/epoch_40.pth'  # head.scales is new: initialised to 1

Exclude the scales from weight decay (``paramwise_cfg``): decay would pull them towards 0.
"""
from typing import Tuple

import torch
from mmpretrain.models.heads import LinearClsHead
from mmpretrain.registry import MODELS
from torch import nn


@MODELS.register_module()
class LWSHead(LinearClsHead):
    """A linear head with frozen weight and bias and a learnt scale per class.

    Args:
        num_classes (int): Number of classes.
        in_channels (int): Channels of the input feature.
        **kwargs: The other arguments of ``LinearClsHead`` (``loss``, ``topk``, ...).
    """

    def __init__(self, num_classes: int, in_channels: int, **kwargs) -> None:
        super().__init__(num_classes=num_classes, in_channels=in_channels, **kwargs)
        self.scales = nn.Parameter(torch.ones(num_classes))
        for param in self.fc.parameters():
            # no gradient: the optimizer (momentum, weight decay) never touches them
            param.requires_grad_(False)

    def forward(self, feats: Tuple[torch.Tensor]) -> torch.Tensor:
        """Scaled logits ``s * (W x + b)``."""
        return self.fc(self.pre_logits(feats)) * self.scales
