# Stage 1 reading pre-resized JPEGs from LMDB packs instead of ~2.5M image files: one file per
# split, the loader decodes 176-px JPEGs (4-5x the images/s of a core on full-size photos).
# Pack once (the --out folders default to this config's lmdb options, under data_root):
#   python tools/pack_lmdb.py configs/aliprod/resnest50_stage1_lmdb.py --split train
#   python tools/pack_lmdb.py configs/aliprod/resnest50_stage1_lmdb.py --split val
# then train as usual; the image folders are no longer read.
_base_ = ['./resnest50_stage1.py']

# relative to data_root; a pack that does not match its dataset is refused at start-up
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
