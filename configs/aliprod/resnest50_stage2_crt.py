# Stage 2 as classifier re-training (cRT, Kang et al.): the stage-1 backbone is frozen (BatchNorm
# statistics too), the 50,030-way classifier is re-initialised and trained with class-balanced
# sampling at lr 1e-4.
_base_ = ['./resnest50_stage2.py']

custom_hooks = [
    dict(
        type='StageSwitchHook',
        switch_epoch=0,
        sampler=dict(type='ClassBalancedSampler'),
        freeze_backbone=True,
        reinit_head=True),
    dict(type='BadImageHook'),
    dict(type='TrainCountsHook'),
]
# frozen parameters get no gradient; DDP must not wait for them
find_unused_parameters = True
# the classifier is re-initialised: load_from may hold any head (checked by tools/train.py)
load_from_skip = ['head.']
