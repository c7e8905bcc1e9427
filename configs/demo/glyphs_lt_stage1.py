# Glyphs-LT stage 1: instance-balanced training with the head capped (largest class 100 -> 80
# images), the same components as configs/aliprod/resnest50_stage1.py, on 1,000 classes.
# Build the data first: python tools/make_glyphs_lt.py data/glyphs_lt
_base_ = [
    '../_base_/models/resnet18-w16-s2_glyphs.py',
    '../_base_/datasets/glyphs_lt_bs64_28.py',
    '../_base_/schedules/glyphs_lt_sgd.py',
    '../_base_/default_runtime.py',
]

train_dataloader = dict(
    sampler=dict(type='InstanceBalancedSampler'),
    dataset=dict(max_per_class=80, cap_seed=0),
)

default_hooks = dict(
    logger=dict(interval=50),
    checkpoint=dict(interval=4, max_keep_ckpts=3, save_last=True),
)
