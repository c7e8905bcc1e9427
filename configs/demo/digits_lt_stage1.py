# Demo stage 1: instance-balanced training on Digits-LT with the head capped (largest class
# 130 -> 110 images), the same components as configs/aliprod/resnest50_stage1.py.
_base_ = [
    '../_base_/models/resnet18-w16_cifar.py',
    '../_base_/datasets/digits_lt_bs32_24.py',
    '../_base_/schedules/digits_lt_sgd.py',
    '../_base_/default_runtime.py',
]

train_dataloader = dict(
    sampler=dict(type='InstanceBalancedSampler'),
    dataset=dict(max_per_class=110, cap_seed=0),
)

default_hooks = dict(
    logger=dict(interval=4),
    checkpoint=dict(interval=10, max_keep_ckpts=3, save_last=True),
)
