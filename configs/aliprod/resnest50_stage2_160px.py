# Stage 2 (class-balanced sampling, lr 1e-4, from stage 1's epoch_40.pth) fine-tuned at a higher
# resolution: 160-px training crops, test images resized to 182 and centre-cropped to 160.
#
# Why (FixRes: Touvron et al., "Fixing the train-test resolution discrepancy", NeurIPS 2019):
# a network's filters, its BatchNorm statistics and its classifier are tuned to the apparent
# object size of its training crops. Testing the 112-px stage-1 model at 160 px would show it
# objects 1.43x larger than it learnt and shift the activation statistics that BatchNorm
# normalises with; training at 112 and testing at 112 throws away detail that the 2021
# runner-up's higher-resolution fine-tune found worth about +1%. So the last epochs (the
# backbone is not frozen here) run at 160 px: the weights and BatchNorm statistics adapt to the
# test resolution (10 epochs at 2x the pixels: about half the stage-1 cost). The test pipeline
# keeps stage 1's centre-crop ratio (160 / 182 ~ 112 / 128 ~ 0.88), so train and test crops
# relate as they did in stage 1, only at a higher resolution.
# Decoded sizes keep stage 1's margins: min_size 228 bounds the upsampling of the smallest
# (0.08-area) crop to 2.5x as min_size 160 did for 112 px, and 182 makes the test resize a
# pure shrink. Activation memory per image grows (160 / 112)^2 ~ 2x.
_base_ = ['./resnest50_stage2.py']

train_pipeline = [
    dict(type='LoadImageScaled', min_size=228),
    dict(type='RandomResizedCrop', scale=160, crop_ratio_range=(0.08, 1.0)),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='LoadImageScaled', min_size=182),
    dict(type='ResizeEdge', scale=182, edge='short'),
    dict(type='CenterCrop', crop_size=160),
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
