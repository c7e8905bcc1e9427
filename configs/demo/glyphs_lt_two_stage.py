# Glyphs-LT, both stages in one run: stage 1 instance-balanced (12 epochs), then class-balanced
# sampling at lr 1e-3 for 3 epochs, switched by StageSwitchHook (Kang et al.'s re-balancing).
_base_ = ['./glyphs_lt_stage1.py']

custom_hooks = [
    dict(
        type='StageSwitchHook',
        switch_epoch=12,
        sampler=dict(type='ClassBalancedSampler'),
        lr=1e-3),
    dict(type='BadImageHook'),
    dict(type='TrainCountsHook'),
]

train_cfg = dict(max_epochs=15, val_interval=3)
