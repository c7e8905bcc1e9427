"""The configs of ``bench_methods.py``: a dataset's own, or stage-2 variants derived from stage 1.

Digits-LT has ``configs/demo/digits_lt_stage2_{crt,lws}.py`` and ``_balanced_softmax.py``; a
dataset without its own variant gets it written into ``<work>/configs/`` as overrides of its
stage-1 config (:data:`DERIVED`, the same settings).
"""
import os
import os.path as osp
from typing import Dict

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
DEMO = osp.join(ROOT, 'configs', 'demo')

_STAGE2 = """
load_from = None
train_dataloader = dict(sampler=dict(type='ClassBalancedSampler'))
optim_wrapper = dict(optimizer=dict(lr=0.05){paramwise})
param_scheduler = dict(_delete_=True, type='CosineAnnealingLR', by_epoch=True, T_max=10,
                       eta_min=0.0)
auto_scale_lr = dict(enable=False)
train_cfg = dict(max_epochs=10)
custom_hooks = [dict(type='StageSwitchHook', switch_epoch=0,
                     sampler=dict(type='ClassBalancedSampler'), freeze_backbone=True,
                     reinit_head={reinit}), dict(type='BadImageHook'), dict(type='TrainCountsHook')]
"""
DERIVED = {
    'crt': _STAGE2.format(paramwise='', reinit=True),
    'lws': "model = dict(head=dict(type='LWSHead'))\n" + _STAGE2.format(
        paramwise=", paramwise_cfg=dict(custom_keys={'head.scales': dict(decay_mult=0.0)})",
        reinit=False),
    'bs': """
model = dict(head=dict(loss=dict(_delete_=True, type='BalancedSoftmaxLoss', tau=1.0)))
custom_hooks = [dict(type='ClassPriorHook'), dict(type='BadImageHook'),
                dict(type='TrainCountsHook')]
""",
}
_OWN = dict(crt='stage2_crt', lws='stage2_lws', bs='balanced_softmax')


def method_configs(name: str, work: str) -> Dict[str, str]:
    """The config of each step key for dataset ``name`` (``digits_lt`` or ``glyphs_lt``).

    Args:
        name (str): The dataset's config prefix.
        work (str): The benchmark's work dir (derived configs go to ``<work>/configs``).

    Returns:
        dict: ``{'stage1', 'two_stage', 'crt', 'lws', 'bs', 'wb1', 'wb', 'ncm'}`` -> path.
    """
    cfg = {k: osp.join(DEMO, f'{name}_{k}.py') for k in ('stage1', 'two_stage')}
    for key, suffix in _OWN.items():
        own = osp.join(DEMO, f'{name}_{suffix}.py')
        cfg[key] = own if osp.isfile(own) else derive(name, key, work)
    for key, suffix in (('wb1', 'wb_stage1'), ('wb', 'wb_stage2'), ('ncm', 'ncm')):
        cfg[key] = osp.join(DEMO, f'{name}_{suffix}.py')
    return cfg


def derive(name: str, key: str, work: str) -> str:
    """Write ``<work>/configs/<name>_<key>.py``: the stage-1 config with :data:`DERIVED`."""
    path = osp.join(work, 'configs', f'{name}_{key}.py')
    os.makedirs(osp.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        f.write(f"_base_ = [{osp.join(DEMO, name + '_stage1.py')!r}]\n" + DERIVED[key])
    return path
