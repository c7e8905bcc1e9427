# Weight balancing, stage 2 on Digits-LT: the stage-1 classifier fine-tuned on the frozen
# backbone with class-balanced sampling, weight decay and MaxNorm, cRT's schedule of
# digits_lt_stage2_crt.py (10 epochs, cosine from lr 0.05); threshold and weight decay as chosen
# on Glyphs-LT (glyphs_lt_wb_stage2.py), e.g.
#   --cfg-options load_from=work_dirs/digits_lt_wb_stage1/epoch_30.pth
_base_ = ['./digits_lt_stage2_crt.py']

load_from = 'work_dirs/digits_lt_wb_stage1/epoch_30.pth'

custom_hooks = [
    dict(type='MaxNormHook', thresh=0.3, mode='relative'),
    dict(type='BadImageHook'),
    dict(type='TrainCountsHook'),
]
# the stage-1 classifier is kept: load_from must fit it whole
load_from_skip = []
