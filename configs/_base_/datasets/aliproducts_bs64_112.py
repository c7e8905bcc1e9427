# dataset settings
# AliProducts at 112 px: 64 images per GPU, so 8 GPUs make the recipe's total batch of 512.
dataset_type = 'AliProductsDataset'
data_root = 'data/aliproducts'
num_classes = 50030

data_preprocessor = dict(
    num_classes=num_classes,
    # RGB mean / std of ImageNet; images are decoded BGR like mmcv and converted here
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    to_rgb=True,
)

train_pipeline = [
    # JPEGs are decoded at the largest DCT-reduced size whose shorter side stays >= min_size;
    # 160 bounds the upsampling of the smallest 0.08-area crop to 2.5x (benchmarks/bench_pipeline)
    dict(type='LoadImageScaled', min_size=160),
    dict(type='RandomResizedCrop', scale=112, crop_ratio_range=(0.08, 1.0)),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]

test_pipeline = [
    # 128 = the resize target, so the resize below only ever shrinks
    dict(type='LoadImageScaled', min_size=128),
    dict(type='ResizeEdge', scale=128, edge='short'),
    dict(type='CenterCrop', crop_size=112),
    dict(type='PackInputs'),
]

# test-time augmentation (tools/test.py --tta, tools/infer.py --tta): MMPretrain's
# AverageClsScoreTTA averages the softmax scores of the test crop and its horizontal mirror
tta_model = dict(type='AverageClsScoreTTA')
tta_pipeline = test_pipeline[:-1] + [
    dict(
        type='TestTimeAug',
        transforms=[[dict(type='RandomFlip', prob=0.),
                     dict(type='RandomFlip', prob=1., direction='horizontal')],
                    [dict(type='PackInputs')]]),
]

train_dataloader = dict(
    batch_size=64,
    # drop an incomplete last batch: a batch of one sample crashes BatchNorm in training
    # (ResNeSt's split attention normalises 1x1 maps); val/test keep every sample
    drop_last=True,
    num_workers=8,
    persistent_workers=True,
    pin_memory=True,
    sampler=dict(type='InstanceBalancedSampler'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='train',
        num_classes=num_classes,
        max_per_class=None,
        on_error='raise',
        pipeline=train_pipeline),
)

val_dataloader = dict(
    batch_size=64,
    num_workers=8,
    persistent_workers=True,
    pin_memory=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='val',
        num_classes=num_classes,
        pipeline=test_pipeline),
)
val_evaluator = dict(type='LongTailAccuracy', topk=(1, 5))

test_dataloader = val_dataloader
test_evaluator = val_evaluator
