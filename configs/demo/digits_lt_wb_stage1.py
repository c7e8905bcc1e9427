# Weight balancing (Alshammari et al., CVPR 2022), stage 1 on Digits-LT: digits_lt_stage1.py with
# the weight decay chosen on Glyphs-LT (see glyphs_lt_wb_stage1.py: the recipe's, so far).
_base_ = ['./digits_lt_stage1.py']

optim_wrapper = dict(optimizer=dict(weight_decay=5e-4))
