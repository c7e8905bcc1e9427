# Nearest class mean on Glyphs-LT: the stage-1 model with NCMHead, for checkpoints written by
#   python tools/build_ncm.py configs/demo/glyphs_lt_stage1.py \
#       work_dirs/glyphs_lt_stage1/epoch_12.pth --out work_dirs/glyphs_lt_stage1/epoch_12_ncm.pth
#   python tools/test.py configs/demo/glyphs_lt_ncm.py work_dirs/glyphs_lt_stage1/epoch_12_ncm.pth
# The scores are cosine similarities; glyphs_lt_stage1.py on the same checkpoint ranks the
# classes identically (same top-k and accuracy), with |feature| x cosine as the logits.
_base_ = ['./glyphs_lt_stage1.py']

model = dict(head=dict(type='NCMHead'))
