# Stage 2 as learnable weight scaling (LWS, Kang et al.): the stage-1 classifier's weights and
# bias are frozen (LWSHead) and one scale per class is learnt, starting at 1, on a frozen
# backbone (BatchNorm statistics too) with class-balanced sampling. As in Kang et al.'s
# classifier-only stages: lr 0.2 for a total batch of 512, cosine to 0 over 10 epochs. The
# scales get no weight decay (it would pull them towards 0).
#   python tools/train.py configs/aliprod/resnest50_stage2_lws.py \
#       --cfg-options load_from=work_dirs/resnest50_stage1/epoch_40.pth
_base_ = ['./resnest50_stage2.py']

# the backbone is frozen when it is built (all 4 stages and the stem, BatchNorm statistics in
# eval mode): DDP then registers only the trainable head, so no frozen gradient is
# all-reduced and find_unused_parameters stays off
model = dict(backbone=dict(frozen_stages=4, norm_eval=True), head=dict(type='LWSHead'))

optim_wrapper = dict(
    optimizer=dict(lr=0.2),
    paramwise_cfg=dict(custom_keys={'head.scales': dict(decay_mult=0.0)}))
param_scheduler = dict(_delete_=True, type='CosineAnnealingLR', by_epoch=True, T_max=10,
                       eta_min=0.0)
auto_scale_lr = dict(enable=False, base_batch_size=512)
# a stage-1 checkpoint has no head.scales: they start at 1 (checked by tools/train.py)
load_from_skip = ['head.scales']
