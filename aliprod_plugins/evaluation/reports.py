"""Files and tables a person reads: metrics table, metrics JSON, per-class CSV."""
import json
import math
import os
import os.path as osp
from typing import Dict, Mapping, Optional, Sequence

import numpy as np

PER_CLASS_COLUMNS = ('class_id', 'train_count', 'eval_count', 'top1_acc')


def format_metrics_table(metrics: Mapping[str, float], title: str = 'metric') -> str:
    """Return the metrics as an aligned two-column text table.

    Args:
        metrics (Mapping[str, float]): Metric name to value.
        title (str): Header of the name column. Defaults to ``'metric'``.

    Returns:
        str: The table; for ``*/mean_class_error`` a last line gives the challenge score (the
        same number as a fraction).
    """
    rows = [(str(k), _fmt(v)) for k, v in metrics.items()]
    width = max([len(title)] + [len(k) for k, _ in rows])
    vwidth = max([5] + [len(v) for _, v in rows])
    rule = f'+-{"-" * width}-+-{"-" * vwidth}-+'
    lines = [rule, f'| {title:<{width}} | {"value":>{vwidth}} |', rule]
    lines += [f'| {k:<{width}} | {v:>{vwidth}} |' for k, v in rows]
    lines.append(rule)
    for key, value in metrics.items():
        if key.endswith('mean_class_error') and _is_number(value) and not math.isnan(value):
            lines.append(f'challenge score (mean class top-1 error): {value / 100:.4f}')
    return '\n'.join(lines)


def dump_metrics_json(path: str, metrics: Mapping[str, float]) -> None:
    """Write the metrics as standard JSON (NaN becomes null)."""
    clean = {k: (None if _is_number(v) and math.isnan(v) else v) for k, v in metrics.items()}
    _makedirs_for(path)
    with open(path, 'w') as f:
        json.dump(clean, f, indent=2)
        f.write('\n')


def per_class_csv_path(json_path: str) -> str:
    """``results.json`` -> ``results_per_class.csv`` (same folder)."""
    return osp.splitext(json_path)[0] + '_per_class.csv'


def write_per_class_csv(path: str, per_class: Mapping[str, np.ndarray],
                        class_ids: Optional[Sequence[str]] = None) -> None:
    """Write ``class_id,train_count,eval_count,top1_acc``, one row per class.

    ``train_count`` is empty where unknown, ``top1_acc`` (percent) is empty for classes with no
    evaluated image.

    Args:
        path (str): Output CSV.
        per_class (Mapping[str, np.ndarray]): ``LongTailAccuracy.per_class``.
        class_ids (Sequence[str], optional): Class names (``metainfo['classes']``). Defaults to
            the class indices.
    """
    num = len(per_class['eval_count'])
    ids = np.arange(num).astype(str) if not class_ids else np.asarray(class_ids, dtype=str)
    if len(ids) != num:
        raise ValueError(f'class_ids must have one entry per class ({num}), got {len(ids)}')
    train = np.asarray(per_class['train_count'])
    train_s = np.where(train < 0, '', train.astype(str))
    acc = np.asarray(per_class['top1_acc'], dtype=np.float64)
    acc_s = np.where(np.isnan(acc), '', np.char.mod('%.4f', np.nan_to_num(acc)))
    cols = [ids, train_s, np.asarray(per_class['eval_count']).astype(str), acc_s]
    lines = cols[0]
    for col in cols[1:]:
        lines = np.char.add(np.char.add(lines, ','), col)
    _makedirs_for(path)
    with open(path, 'w') as f:
        f.write(','.join(PER_CLASS_COLUMNS) + '\n')
        f.write('\n'.join(lines.tolist()) + '\n')


def read_per_class_csv(path: str) -> Dict[str, np.ndarray]:
    """Read a per-class CSV back: ``class_id`` (str), the others float (NaN where empty)."""
    with open(path) as f:
        header = f.readline().strip().split(',')
        if tuple(header) != PER_CLASS_COLUMNS:
            raise ValueError(f'{path}: expected the header {",".join(PER_CLASS_COLUMNS)}, got '
                             f'{",".join(header)}')
        cells = np.array([line.rstrip('\n').split(',') for line in f if line.strip()],
                         dtype=str).reshape(-1, len(PER_CLASS_COLUMNS))
    out = {'class_id': cells[:, 0]}
    for j, name in enumerate(PER_CLASS_COLUMNS[1:], start=1):
        col = np.where(cells[:, j] == '', 'nan', cells[:, j])
        try:
            out[name] = col.astype(np.float64)
        except ValueError as err:
            raise ValueError(f'{path}: column {name} must be numeric ({err})') from None
    return out


def _fmt(value) -> str:
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return str(int(value))
    if _is_number(value):
        return 'nan' if math.isnan(value) else f'{value:.4f}'
    return str(value)


def _is_number(value) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
        value, bool)


def _makedirs_for(path: str) -> None:
    if osp.dirname(path):
        os.makedirs(osp.dirname(path), exist_ok=True)
