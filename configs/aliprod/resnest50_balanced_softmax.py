# Balanced Softmax (Ren et al., NeurIPS 2020; = logit-adjusted loss with tau=1, Menon et al.,
# ICLR 2021) in one stage: the stage-1 recipe (instance-balanced sampling, head capped at 250,
# SGD lr 0.5, x0.1 at 10/20/30, 40 epochs) with the loss computed on logits + log(prior).
# The prior is the capped training set's class counts, set at run time by ClassPriorHook
# (broadcast from rank 0 under DDP, stored in the checkpoint for --resume); no second stage.
_base_ = ['./resnest50_stage1.py']

model = dict(head=dict(loss=dict(_delete_=True, type='BalancedSoftmaxLoss', tau=1.0)))

custom_hooks = [
    dict(type='ClassPriorHook'),
    dict(type='BadImageHook'),
    dict(type='TrainCountsHook'),
]
