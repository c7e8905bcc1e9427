# Nearest class mean on Digits-LT (see glyphs_lt_ncm.py), for tools/build_ncm.py checkpoints.
_base_ = ['./digits_lt_stage1.py']

model = dict(head=dict(type='NCMHead'))
