# Weight balancing (Alshammari et al., "Long-Tailed Recognition via Weight Balancing", CVPR
# 2022), stage 1: the recipe's stage 1 with the weight decay chosen on Glyphs-LT (so far the
# recipe's own: see configs/demo/glyphs_lt_wb_stage1.py; not measured on AliProducts).
_base_ = ['./resnest50_stage1.py']

optim_wrapper = dict(optimizer=dict(weight_decay=1e-4))
