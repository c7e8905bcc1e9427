# Stage 2 as learnable weight scaling (LWS, Kang et al.): the stage-1 classifier's weights and
# bias are frozen (LWSHead) and one scale per class is learnt, starting at 1, on a frozen
# backbone (BatchNorm statistics too) with class-balanced sampling. As in Kang et al.'s
# classifier-only stages: lr 0.2 for a total batch of 512, cosine to 0 over 10 epochs. The
# scales get no weight decay (it would pull them towards 0).
#   python tools/train.py configs/aliprod/resnest50_stage2_lws.py \
#       --cfg-options load_from=work_dirs/resnest50_stage1/epoch_40.pth
_base_ = ['./resnest50_stage2.py']

model = dict(head=dict(type='LWSHead'))

optim_wrapper = dict(
    optimizer=dict(lr=0.2),
    paramwise_cfg=dict(custom_keys={'head.scales': dict(decay_mult=0.0)}))
param_scheduler = dict(_delete_=True, type='CosineAnnealingLR', by_epoch=True, T_max=10,
                       eta_min=0.0)
auto_scale_lr = dict(enable=False, base_batch_size=512)

custom_hooks = [
    dict(
        type='StageSwitchHook',
        switch_epoch=0,
        sampler=dict(type='ClassBalancedSampler'),
        freeze_backbone=True),
    dict(type='BadImageHook'),
    dict(type='TrainCountsHook'),
]
# frozen parameters get no gradient; DDP must not wait for them
find_unused_parameters = True
# a stage-1 checkpoint has no head.scales: they start at 1 (checked by tools/train.py)
load_from_skip = ['head.scales']
