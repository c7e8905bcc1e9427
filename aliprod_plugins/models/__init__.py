"""Long-tail losses and heads, and the hook that feeds them the prior.

- :mod:`.balanced_softmax_loss`: ``BalancedSoftmaxLoss`` (``MODELS``), logit adjustment
  inside the loss;
- :mod:`.class_prior_hook`: ``ClassPriorHook`` (``HOOKS``), the sampler's class prior at every
  epoch start;
- :mod:`.lws_head`: ``LWSHead`` (``MODELS``), learnable weight scaling;
- :mod:`.ncm_head`: ``NCMHead`` (``MODELS``), cosine to class means.
"""
from .balanced_softmax_loss import BalancedSoftmaxLoss
from .class_prior_hook import ClassPriorHook
from .lws_head import LWSHead
from .ncm_head import NCMHead

__all__ = ['BalancedSoftmaxLoss', 'ClassPriorHook', 'LWSHead', 'NCMHead']
