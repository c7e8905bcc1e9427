# Demo stage 2 as its own run: class-balanced sampling at a constant lr of 1e-3 from a stage-1
# checkpoint, e.g. --cfg-options load_from=work_dirs/digits_lt_stage1/epoch_30.pth
_base_ = ['./digits_lt_stage1.py']

# (or the kept end of stage 1 of a two-stage run: work_dirs/digits_lt_two_stage/stage1_final.pth)
load_from = 'work_dirs/digits_lt_stage1/epoch_30.pth'

train_dataloader = dict(sampler=dict(type='ClassBalancedSampler'))

optim_wrapper = dict(optimizer=dict(lr=1e-3))
param_scheduler = dict(_delete_=True, type='ConstantLR', factor=1.0, by_epoch=True)
auto_scale_lr = dict(enable=False)

train_cfg = dict(max_epochs=10, val_interval=5)
