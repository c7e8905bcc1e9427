# Demo resolution fine-tune (the counterpart of configs/aliprod/resnest50_stage2_160px.py):
# stage 2 (class-balanced, lr 1e-3, from stage 1's checkpoint) at 32-px training crops instead
# of the demo's 24, and the test pipeline scaled to match (the demo tests on the whole image,
# so resize 32 / crop 32 as 24 / 24 before). FixRes: the weights and BatchNorm statistics adapt
# to the resolution the model is tested at, e.g.
#   --cfg-options load_from=work_dirs/digits_lt_stage1/epoch_30.pth
_base_ = ['./digits_lt_stage2.py']

train_pipeline = [
    dict(type='LoadImageScaled', min_size=32),
    dict(type='RandomResizedCrop', scale=32, crop_ratio_range=(0.6, 1.0)),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='LoadImageScaled', min_size=32),
    dict(type='ResizeEdge', scale=32, edge='short'),
    dict(type='CenterCrop', crop_size=32),
    dict(type='PackInputs'),
]

train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))

# flip TTA over this test pipeline (the base's tta_pipeline follows the base's test_pipeline)
tta_pipeline = test_pipeline[:-1] + [
    dict(
        type='TestTimeAug',
        transforms=[[dict(type='RandomFlip', prob=0.),
                     dict(type='RandomFlip', prob=1., direction='horizontal')],
                    [dict(type='PackInputs')]]),
]
