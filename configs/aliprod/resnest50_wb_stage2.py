# Weight balancing, stage 2: from the weight-balancing stage 1, the 50,030-way classifier (kept,
# not re-initialised) is fine-tuned on the frozen backbone (BatchNorm statistics too) with
# class-balanced sampling, weight decay and MaxNorm: after every step each class's weight vector
# is projected back to an L2 norm <= the threshold (relative: min + 0.3 (max - min) of the stage-1
# row norms); the bias is left free, as in the authors' code. Threshold and weight decay (the
# stage-1 value) as chosen on Glyphs-LT (configs/demo/glyphs_lt_wb_stage2.py); the lr is the
# recipe's stage 2. Not measured on AliProducts.
#   python tools/train.py configs/aliprod/resnest50_wb_stage2.py \
#       --cfg-options load_from=work_dirs/resnest50_wb_stage1/epoch_40.pth
_base_ = ['./resnest50_stage2.py']

load_from = 'work_dirs/resnest50_wb_stage1/epoch_40.pth'

# the backbone is frozen when it is built (stem and all 4 stages, BatchNorm statistics in eval
# mode), as in the cRT / LWS configs: DDP registers only the head; the classifier is kept
model = dict(backbone=dict(frozen_stages=4, norm_eval=True))

custom_hooks = [
    dict(type='MaxNormHook', thresh=0.3, mode='relative'),
    dict(type='BadImageHook'),
    dict(type='TrainCountsHook'),
]
