# dataset settings
# Glyphs-LT (tools/make_glyphs_lt.py): 1,000 glyph classes from matplotlib's fonts, 100 -> 1
# training images per class, 10 validation images per class from font files held out of
# training; 32-px grayscale JPEGs in the AliProducts layout. Everything else (dataset class,
# normalisation, loaders, drop_last, metric, TTA model) is Digits-LT's; the network sees 28-px
# crops.
_base_ = ['./digits_lt_bs32_24.py']

data_root = 'data/glyphs_lt'
num_classes = 1000

data_preprocessor = dict(num_classes=num_classes)

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

# flip TTA as in the other configs, for the mechanism: a mirrored glyph is often another glyph
# (training never flips), so expect it to cost accuracy here
tta_pipeline = test_pipeline[:-1] + [
    dict(
        type='TestTimeAug',
        transforms=[[dict(type='RandomFlip', prob=0.),
                     dict(type='RandomFlip', prob=1., direction='horizontal')],
                    [dict(type='PackInputs')]]),
]

train_dataloader = dict(
    batch_size=64,
    dataset=dict(data_root=data_root, num_classes=num_classes, pipeline=train_pipeline))

val_dataloader = dict(
    batch_size=250,
    dataset=dict(data_root=data_root, num_classes=num_classes, pipeline=test_pipeline))

test_dataloader = val_dataloader
