# Demo cRT (classifier re-training, Kang et al.): from the demo's stage-1 checkpoint, the
# backbone frozen (BatchNorm statistics too), the classifier re-initialised and trained with
# class-balanced sampling for 10 epochs, cosine from lr 0.05 (a new classifier needs more than
# the fine-tuning lr of digits_lt_stage2.py), e.g.
#   --cfg-options load_from=work_dirs/digits_lt_stage1/epoch_30.pth
_base_ = ['./digits_lt_stage2.py']

optim_wrapper = dict(optimizer=dict(lr=0.05))
param_scheduler = dict(_delete_=True, type='CosineAnnealingLR', by_epoch=True, T_max=10,
                       eta_min=0.0)

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
