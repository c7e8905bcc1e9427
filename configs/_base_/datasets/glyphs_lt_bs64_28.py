# dataset settings
# Glyphs-LT (tools/make_glyphs_lt.py): 1,000 glyph classes from matplotlib's fonts, 100 -> 1
# training images per class, 10 validation images per class from font files held out of
# training; 32-px grayscale JPEGs in the AliProducts layout, read by the same dataset class,
# loader and metric as AliProducts. The network sees 28-px crops.
dataset_type = 'AliProductsDataset'
data_root = 'data/glyphs_lt'
num_classes = 1000

data_preprocessor = dict(
    num_classes=num_classes,
    mean=[127.5, 127.5, 127.5],
    std=[127.5, 127.5, 127.5],
    to_rgb=True,
)

# no flip: a mirrored glyph is often another glyph ('b' / 'd'); the images already carry
# scale, shift, rotation and shear from the builder, so the crop keeps most of the glyph
train_pipeline = [
    dict(type='LoadImageScaled', min_size=32),
    dict(type='RandomResizedCrop', scale=28, crop_ratio_range=(0.75, 1.0),
         aspect_ratio_range=(0.85, 1.18)),
    dict(type='PackInputs'),
]

test_pipeline = [
    dict(type='LoadImageScaled', min_size=32),
    dict(type='ResizeEdge', scale=28, edge='short'),
    dict(type='CenterCrop', crop_size=28),
    dict(type='PackInputs'),
]

# test-time augmentation (tools/test.py --tta, tools/infer.py --tta): MMPretrain's
# AverageClsScoreTTA averages the softmax scores of the test crop and its horizontal mirror.
# Defined as in the AliProducts configs for the mechanism; a mirrored glyph is often another
# glyph (training never flips), so expect it to cost accuracy here
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
    # a batch of one sample would crash BatchNorm in training
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
    batch_size=250,
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
