# Both stages in one run (configs/aliprod/resnest50_two_stage.py) from LMDB packs; make them
# as in resnest50_stage1_lmdb.py (the same packs serve both configs):
#   python tools/pack_lmdb.py configs/aliprod/resnest50_two_stage_lmdb.py --split train
#   python tools/pack_lmdb.py configs/aliprod/resnest50_two_stage_lmdb.py --split val
_base_ = ['./resnest50_two_stage.py']

# After decoding, RandomResizedCrop + RandomFlip + PackInputs fused into one transform (same
# crops and flips from the same random stream, pixel for pixel; ~1.3x the images per CPU-second,
# benchmarks/bench_throughput.py)
train_pipeline = [
    dict(type='LoadImageScaled', min_size=160),
    dict(type='RandomResizedCropFlipPack', scale=112, crop_ratio_range=(0.08, 1.0),
         flip_prob=0.5),
]
train_dataloader = dict(dataset=dict(lmdb='packs/train', pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(lmdb='packs/val'))
test_dataloader = dict(dataset=dict(lmdb='packs/val'))
