"""What ``tools/tau_norm.py`` prints and writes: the sweep table, JSON / CSV, the checkpoint."""
import io
import json
import os
import os.path as osp

import numpy as np
import torch

from aliprod_plugins.engine import atomic_write_bytes, safe_load
from aliprod_plugins.evaluation.calibration import calibrated_head
from aliprod_plugins.evaluation.reports import write_per_class_csv

SELECT_BY = 'mean_class_acc'


def format_sweep(rows: list, keys: list) -> str:
    """tau vs metrics as a text table."""
    header = ['tau'] + keys
    cells = [[r['label']] + [f'{r["metrics"].get(k, float("nan")):.2f}' for k in keys]
             for r in rows]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(header)]
    line = lambda items: '  '.join(f'{x:>{w}}' for x, w in zip(items, widths))  # noqa: E731
    return '\n'.join([line(header)] + [line(c) for c in cells])


def write_outputs(out_dir, args, mode, rows, best, original, weight, bias, counts, classes):
    """Write the sweep table, the best per-class CSV and the calibrated checkpoint."""
    os.makedirs(out_dir, exist_ok=True)
    tau = rows[best]['tau']
    stem = osp.splitext(osp.basename(args.checkpoint))[0]
    ckpt_path = osp.join(out_dir, f'{stem}_{mode}_tau{tau:g}.pth')
    ckpt = safe_load(args.checkpoint, map_location='cpu')
    state = dict(ckpt.get('state_dict', ckpt))
    w, b = calibrated_head(weight, bias, tau, mode, counts)
    state['head.fc.weight'] = w.cpu().clone()
    if 'head.fc.bias' in state:
        state['head.fc.bias'] = b.cpu().clone()
    elif b.any():
        raise ValueError(f'{args.checkpoint}: the head has no bias to hold the logit '
                         f'adjustment; expected a head.fc.bias in the checkpoint')
    if 'head.scales' in state:  # folded into w and b (LWSHead)
        state['head.scales'] = torch.ones_like(state['head.scales'])
    meta = dict(ckpt.get('meta') or {}, calibration=dict(mode=mode, tau=tau, selected_by=SELECT_BY))
    buffer = io.BytesIO()
    torch.save({'meta': meta, 'state_dict': state}, buffer)
    atomic_write_bytes(ckpt_path, buffer.getvalue())  # read by later runs: never half a file

    summary = dict(mode=mode, selected_by=SELECT_BY, best_tau=tau, checkpoint=ckpt_path,
                   original=_finite(original['metrics']),
                   sweep=[dict(tau=r['tau'], **_finite(r['metrics'])) for r in rows])
    with open(osp.join(out_dir, 'sweep.json'), 'w') as f:
        json.dump(summary, f, indent=2)
    best_row = dict(mode=mode, tau=tau, selected_by=SELECT_BY, checkpoint=ckpt_path,
                    metrics=_finite(rows[best]['metrics']))
    with open(osp.join(out_dir, 'best.json'), 'w') as f:
        json.dump(best_row, f, indent=2)
    keys = list(rows[0]['metrics'])
    with open(osp.join(out_dir, 'sweep.csv'), 'w') as f:
        f.write(','.join(['tau'] + keys) + '\n')
        for r in rows:
            f.write(','.join([f'{r["tau"]:g}'] + [f'{r["metrics"][k]:.4f}' for k in keys]) + '\n')
    write_per_class_csv(osp.join(out_dir, 'best_per_class.csv'), rows[best]['per_class'],
                        classes)
    print(f'written: {ckpt_path} and best.json, sweep.json, sweep.csv, best_per_class.csv in '
          f'{out_dir}')


def _finite(metrics: dict) -> dict:
    # standard JSON has no NaN (a shot group without evaluated classes)
    return {k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in metrics.items()}
