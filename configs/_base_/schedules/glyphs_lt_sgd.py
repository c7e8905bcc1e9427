# optimizer
# FiniteOptimWrapper: a step with a NaN/inf loss or gradient norm is skipped and counted.
optim_wrapper = dict(
    type='FiniteOptimWrapper',
    optimizer=dict(type='SGD', lr=0.2, momentum=0.9, weight_decay=5e-4))

# learning policy: stage 1 is 12 epochs, x0.1 at 8 and 11 (the recipe's 10/20/30 of 40, scaled)
param_scheduler = dict(type='MultiStepLR', by_epoch=True, milestones=[8, 11], gamma=0.1)

# train, val, test setting
train_cfg = dict(type='ResumableEpochBasedTrainLoop', max_epochs=12, val_interval=4)
val_cfg = dict()
test_cfg = dict()

auto_scale_lr = dict(base_batch_size=64)
