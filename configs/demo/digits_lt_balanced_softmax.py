# Demo Balanced Softmax: the demo's stage 1 (instance-balanced, head capped, 30 epochs) trained
# with BalancedSoftmaxLoss; ClassPriorHook sets the prior from the capped training set.
_base_ = ['./digits_lt_stage1.py']

model = dict(head=dict(loss=dict(_delete_=True, type='BalancedSoftmaxLoss', tau=1.0)))

custom_hooks = [
    dict(type='ClassPriorHook'),
    dict(type='BadImageHook'),
    dict(type='TrainCountsHook'),
]
