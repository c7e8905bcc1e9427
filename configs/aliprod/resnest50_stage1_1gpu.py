# Stage 1 of the recipe on one GPU: the recipe's total batch of 512 on one device, lr 0.5 (the
# schedule's value for a total batch of 512, so --auto-scale-lr leaves it as is), everything
# else as configs/aliprod/resnest50_stage1.py. One H200 holds batch 512 of ResNeSt-50 at 112 px
# (the 8-GPU recipe runs 64 per GPU). Differences from 8 x 64: BatchNorm statistics over 512
# images instead of 64 per GPU, and no gradient all-reduce. Launch:
#   python tools/train.py configs/aliprod/resnest50_stage1_1gpu.py --amp   # or the bf16 variant:
#   python tools/train.py configs/aliprod/resnest50_stage1_1gpu.py \
#       --cfg-options optim_wrapper.type=FiniteAmpOptimWrapper optim_wrapper.dtype=bfloat16
_base_ = ['./resnest50_stage1.py']

train_dataloader = dict(
    batch_size=512,
    # one GPU step of 512 images needs 8x the images per step of one 8-GPU rank
    num_workers=16,
)
