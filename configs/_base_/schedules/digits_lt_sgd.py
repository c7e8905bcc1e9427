# optimizer
# FiniteOptimWrapper: a step with a NaN/inf loss or gradient norm is skipped and counted
# (`nonfinite_steps` in the log); 20 in a row (max_consecutive_nonfinite) stop the run with an
# error naming the last good checkpoint.
optim_wrapper = dict(
    type='FiniteOptimWrapper',
    optimizer=dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=5e-4))

# learning policy
param_scheduler = dict(type='MultiStepLR', by_epoch=True, milestones=[20, 26], gamma=0.1)

# train, val, test setting
# by-epoch, resumable mid-epoch and bit-exactly, preemption-aware (see aliproducts_sgd_multistep)
train_cfg = dict(type='ResumableEpochBasedTrainLoop', max_epochs=30, val_interval=10)
val_cfg = dict()
test_cfg = dict()

auto_scale_lr = dict(base_batch_size=32)
