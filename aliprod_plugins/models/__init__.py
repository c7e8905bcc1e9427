"""aliprod_plugins.models: long-tail losses and heads, and the hook that feeds them the prior."""
from .balanced_softmax_loss import BalancedSoftmaxLoss
from .class_prior_hook import ClassPriorHook
from .lws_head import LWSHead
from .ncm_head import NCMHead

__all__ = ['BalancedSoftmaxLoss', 'ClassPriorHook', 'LWSHead', 'NCMHead']
