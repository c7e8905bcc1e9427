"""Nearest class mean (NCM) classification with cosine similarity (Kang et al., ICLR 2020).

The class scores are the cosine similarity of the L2-normalised feature to each class's mean of
L2-normalised training features (``tools/build_ncm.py`` computes them from a trained model's
training split). The means are stored as ``fc.weight`` (one unit row per class) with a zero
``fc.bias``, the parameter names of ``LinearClsHead``: the NCM checkpoint loads into this head
and, unchanged, into the original config's ``LinearClsHead``, which ranks the classes exactly
as NCM does (``x . m_c = |x| cos(x, m_c)`` with unit ``m_c``: the same order for every image),
so ``tools/test.py``, ``tools/infer.py`` and MMPretrain's inferencer give NCM's top-k with either
config; with this head the scores are the cosines (times ``scale``) themselves::

    model = dict(head=dict(type='NCMHead'))
"""
from typing import Tuple

import torch
import torch.nn.functional as F
from mmpretrain.models.heads import LinearClsHead
from mmpretrain.registry import MODELS

from aliprod_plugins.checks import check_number


@MODELS.register_module()
class NCMHead(LinearClsHead):
    """Scores are ``scale * cos(feature, class mean)``; the means are frozen.

    Args:
        num_classes (int): Number of classes.
        in_channels (int): Channels of the input feature.
        scale (float): Factor on the cosines before the softmax of ``predict`` (does not change
            the ranking). Defaults to 1.0.
        **kwargs: The other arguments of ``LinearClsHead`` (``loss``, ``topk``, ...).
    """

    def __init__(self, num_classes: int, in_channels: int, scale: float = 1.0,
                 **kwargs) -> None:
        super().__init__(num_classes=num_classes, in_channels=in_channels, **kwargs)
        self.scale = check_number('scale', scale, low=0, low_open=True, owner='NCMHead')
        for param in self.fc.parameters():
            # the means come from build_ncm.py / enroll_classes.py, never from a gradient
            param.requires_grad_(False)

    def forward(self, feats: Tuple[torch.Tensor]) -> torch.Tensor:
        """``scale * cos(x, m_c)`` for every class ``c`` (a zero mean scores 0)."""
        x = F.normalize(self.pre_logits(feats), dim=1)
        return self.scale * (x @ F.normalize(self.fc.weight, dim=1).t())
