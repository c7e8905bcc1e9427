# Stage 2 as a separate run: classifier re-balancing from a stage-1 checkpoint with
# class-balanced sampling at a constant lr of 1e-4 (Kang et al., "Decoupling representation and
# classifier"). Point `load_from` at stage 1's last checkpoint, e.g.
#   python tools/train.py configs/aliprod/resnest50_stage2.py \
#       --cfg-options load_from=work_dirs/resnest50_stage1/epoch_40.pth
_base_ = ['./resnest50_stage1.py']

# the last checkpoint of a stage-1 run (rotation keeps the latest); after a two-stage run use
# its kept end of stage 1 instead: load_from=work_dirs/resnest50_two_stage/stage1_final.pth
load_from = 'work_dirs/resnest50_stage1/epoch_40.pth'

train_dataloader = dict(sampler=dict(type='ClassBalancedSampler'))

optim_wrapper = dict(optimizer=dict(lr=1e-4))
param_scheduler = dict(_delete_=True, type='ConstantLR', factor=1.0, by_epoch=True)
# lr 1e-4 is the recipe's absolute stage-2 value; do not rescale it with the batch size
auto_scale_lr = dict(enable=False)

train_cfg = dict(max_epochs=10)
