# Stage 2 as classifier re-training (cRT, Kang et al.): the stage-1 backbone is frozen (BatchNorm
# statistics too), the 50,030-way classifier is re-initialised and trained with class-balanced
# sampling at lr 1e-4.
_base_ = ['./resnest50_stage2.py']

# the backbone is frozen when it is built (all 4 stages and the stem, BatchNorm statistics in
# eval mode): DDP then registers only the trainable head, so no frozen gradient is
# all-reduced and find_unused_parameters stays off
model = dict(backbone=dict(frozen_stages=4, norm_eval=True))

# the classifier is re-initialised at the start (the sampler is train_dataloader's)
custom_hooks = [
    dict(type='StageSwitchHook', switch_epoch=0, sampler=None, reinit_head=True),
    dict(type='BadImageHook'),
    dict(type='TrainCountsHook'),
]
# the classifier is re-initialised: load_from may hold any head (checked by tools/train.py)
load_from_skip = ['head.']
