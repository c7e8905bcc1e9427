# Stage 1 with bf16 automatic mixed precision (no loss scaling needed for bf16).
_base_ = ['./resnest50_stage1.py']

# (FiniteAmpOptimWrapper = AmpOptimWrapper that skips and counts non-finite steps)
optim_wrapper = dict(type='FiniteAmpOptimWrapper', dtype='bfloat16')
