# optimizer
# lr 0.5 is for a total batch of 512 (8 GPUs x 64); --auto-scale-lr rescales it linearly.
# FiniteOptimWrapper: a step with a NaN/inf loss or gradient norm is skipped and counted
# (`nonfinite_steps` in the log); 20 in a row (max_consecutive_nonfinite) stop the run with an
# error naming the last good checkpoint.
optim_wrapper = dict(
    type='FiniteOptimWrapper',
    optimizer=dict(type='SGD', lr=0.5, momentum=0.9, weight_decay=1e-4))

# learning policy
param_scheduler = dict(
    type='MultiStepLR', by_epoch=True, milestones=[10, 20, 30], gamma=0.1)

# train, val, test setting
# ResumableEpochBasedTrainLoop: by-epoch training that resumes mid-epoch, bit-exactly, and
# saves + exits 75 on SIGTERM / SIGUSR1 (aliprod_plugins/engine/resumable_loop.py)
train_cfg = dict(type='ResumableEpochBasedTrainLoop', max_epochs=40, val_interval=1)
val_cfg = dict()
test_cfg = dict()

# NOTE: `auto_scale_lr` is for automatically scaling LR,
# based on the actual training batch size.
auto_scale_lr = dict(base_batch_size=512)
