# Both stages in one run: instance-balanced for 40 epochs (lr 0.5, x0.1 at 10/20/30), then
# class-balanced sampling at lr 1e-4 for 10 more. The switch survives --resume at any epoch.
_base_ = ['./resnest50_stage1.py']

custom_hooks = [
    dict(
        type='StageSwitchHook',
        switch_epoch=40,
        sampler=dict(type='ClassBalancedSampler'),
        lr=1e-4),
    dict(type='BadImageHook'),
    dict(type='TrainCountsHook'),
]

train_cfg = dict(max_epochs=50)
