# Both stages in one run (configs/aliprod/resnest50_two_stage.py) from LMDB packs; make them
# as in resnest50_stage1_lmdb.py (the same packs serve both configs):
#   python tools/pack_lmdb.py configs/aliprod/resnest50_two_stage_lmdb.py --split train
#   python tools/pack_lmdb.py configs/aliprod/resnest50_two_stage_lmdb.py --split val
_base_ = ['./resnest50_two_stage.py']

train_dataloader = dict(dataset=dict(lmdb='packs/train'))
val_dataloader = dict(dataset=dict(lmdb='packs/val'))
test_dataloader = dict(dataset=dict(lmdb='packs/val'))
