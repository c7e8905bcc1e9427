# optimizer
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=5e-4))

# learning policy
param_scheduler = dict(type='MultiStepLR', by_epoch=True, milestones=[20, 26], gamma=0.1)

# train, val, test setting
train_cfg = dict(by_epoch=True, max_epochs=30, val_interval=10)
val_cfg = dict()
test_cfg = dict()

auto_scale_lr = dict(base_batch_size=32)
