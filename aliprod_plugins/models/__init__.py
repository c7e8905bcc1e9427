"""Long-tail losses and heads, and the hook that feeds them the prior (MMPretrain's ``MODELS``).

- ``balanced_softmax_loss``: ``BalancedSoftmaxLoss``, logit-adjusted cross-entropy
- ``class_prior_hook``: ``ClassPriorHook``, the label distribution the train sampler draws
- ``lws_head``: ``LWSHead``, learnable weight scaling of a frozen classifier
- ``ncm_head``: ``NCMHead``, nearest class mean with cosine similarity
"""
from .balanced_softmax_loss import BalancedSoftmaxLoss
from .class_prior_hook import ClassPriorHook
from .lws_head import LWSHead
from .ncm_head import NCMHead

__all__ = ['BalancedSoftmaxLoss', 'ClassPriorHook', 'LWSHead', 'NCMHead']
