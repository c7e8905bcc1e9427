# Demo LWS: from the demo's stage-1 checkpoint, the classifier frozen (LWSHead) and one scale
# per class learnt on the frozen backbone with class-balanced sampling, 10 epochs, cosine from
# lr 0.05 (few iterations here: 12 per epoch), no weight decay on the scales, e.g.
#   --cfg-options load_from=work_dirs/digits_lt_stage1/epoch_30.pth
_base_ = ['./digits_lt_stage2.py']

# the backbone is frozen when it is built (all 4 stages and the stem, BatchNorm statistics in
# eval mode): DDP then registers only the trainable head, so no frozen gradient is
# all-reduced and find_unused_parameters stays off
model = dict(backbone=dict(frozen_stages=4, norm_eval=True), head=dict(type='LWSHead'))

optim_wrapper = dict(
    optimizer=dict(lr=0.05),
    paramwise_cfg=dict(custom_keys={'head.scales': dict(decay_mult=0.0)}))
param_scheduler = dict(_delete_=True, type='CosineAnnealingLR', by_epoch=True, T_max=10,
                       eta_min=0.0)
# a stage-1 checkpoint has no head.scales: they start at 1 (checked by tools/train.py)
load_from_skip = ['head.scales']
