# Stage 1 of the recipe: representation learning with instance-balanced sampling on the
# head-capped training set (at most 250 images per class, chosen reproducibly; tail untouched).
_base_ = [
    '../_base_/models/resnest50_aliprod.py',
    '../_base_/datasets/aliproducts_bs64_112.py',
    '../_base_/schedules/aliproducts_sgd_multistep.py',
    '../_base_/default_runtime.py',
]

train_dataloader = dict(
    sampler=dict(type='InstanceBalancedSampler'),
    dataset=dict(max_per_class=250, cap_seed=0),
)

train_cfg = dict(max_epochs=40)
