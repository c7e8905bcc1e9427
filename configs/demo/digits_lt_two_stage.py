# Demo: both stages in one run. Stage 1 instance-balanced (30 epochs), then class-balanced
# sampling at lr 1e-3 for 10 epochs, switched by StageSwitchHook.
_base_ = ['./digits_lt_stage1.py']

custom_hooks = [
    dict(
        type='StageSwitchHook',
        switch_epoch=30,
        sampler=dict(type='ClassBalancedSampler'),
        lr=1e-3),
    dict(type='BadImageHook'),
    dict(type='TrainCountsHook'),
]

train_cfg = dict(max_epochs=40)
