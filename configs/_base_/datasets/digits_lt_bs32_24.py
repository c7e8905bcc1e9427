# dataset settings
# Digits-LT (tools/make_digits_lt.py): 10 classes, 32-px grayscale digits in the AliProducts
# layout, read by the same dataset class, loader and metric as AliProducts. The network sees
# 24-px crops: the digits are 8x8 at source, and 24 px trains ~1.6x faster than 32 px on a
# CPU with the same accuracy (measured on the demo).
dataset_type = 'AliProductsDataset'
data_root = 'data/digits_lt'
num_classes = 10

data_preprocessor = dict(
    num_classes=num_classes,
    mean=[127.5, 127.5, 127.5],
    std=[127.5, 127.5, 127.5],
    to_rgb=True,
)

# no horizontal flip: a mirrored digit is not the same digit
train_pipeline = [
    dict(type='LoadImageScaled', min_size=32),
    dict(type='RandomResizedCrop', scale=24, crop_ratio_range=(0.6, 1.0)),
    dict(type='PackInputs'),
]

test_pipeline = [
    dict(type='LoadImageScaled', min_size=32),
    dict(type='ResizeEdge', scale=24, edge='short'),
    dict(type='CenterCrop', crop_size=24),
    dict(type='PackInputs'),
]

# test-time augmentation (tools/test.py --tta, tools/infer.py --tta): MMPretrain's
# AverageClsScoreTTA averages the softmax scores of the test crop and its horizontal mirror.
# Defined as in the AliProducts configs to demo the mechanism; a mirrored digit is not the
# same digit (training never flips), so it costs accuracy here (README, Results)
tta_model = dict(type='AverageClsScoreTTA')
tta_pipeline = test_pipeline[:-1] + [
    dict(
        type='TestTimeAug',
        transforms=[[dict(type='RandomFlip', prob=0.),
                     dict(type='RandomFlip', prob=1., direction='horizontal')],
                    [dict(type='PackInputs')]]),
]

train_dataloader = dict(
    batch_size=32,
    # drop an incomplete last batch: a batch of one sample crashes BatchNorm in training
    # (ResNeSt's split attention normalises 1x1 maps); val/test keep every sample
    drop_last=True,
    num_workers=2,
    persistent_workers=True,
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
    batch_size=100,
    num_workers=2,
    persistent_workers=True,
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
