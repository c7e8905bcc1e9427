"""What ``tools/run_demo.py`` prints at the end: the results table and a few predictions."""
import csv
import os
import os.path as osp
import re
from typing import Dict, List

TABLE_METRICS = ('top1_error', 'mean_class_error', 'many_shot_acc', 'medium_shot_acc',
                 'few_shot_acc')
_NAMES = ('top-1 error', 'mean class error', 'many-shot acc', 'medium-shot acc', 'few-shot acc')


def row_labels(stage1_epochs: int = 30, total_epochs: int = 40) -> Dict[str, str]:
    """Table row of each result, in the order printed."""
    return {
        'stage1': f'stage 1 (instance-balanced, epoch {stage1_epochs})',
        'stage1_tta': 'stage 1 + flip TTA',
        'stage2': f'stage 2 (class-balanced, epoch {total_epochs})',
        'stage2_tta': 'stage 2 + flip TTA',
        'stage1_tau_norm': 'stage 1 + tau-norm (tau picked on val)',
    }


def format_table(results: Dict[str, Dict[str, float]], seed: int = 0, stage1_epochs: int = 30,
                 total_epochs: int = 40) -> str:
    """The results as the Markdown table of the README (percent, two decimals).

    Args:
        results (dict): ``{'stage1': metrics, ...}`` (see :func:`row_labels`); rows without
            results are left out, metrics without a value say ``n/a``.
        seed (int): The training seed, in the header. Defaults to 0.
        stage1_epochs (int): Stage-1 epochs, in the first row. Defaults to 30.
        total_epochs (int): All epochs, in the stage-2 row. Defaults to 40.
    """
    rows = [f'| `make demo` (seed {seed}), % | ' + ' | '.join(_NAMES) + ' |',
            '|---' * (len(_NAMES) + 1) + '|']
    for key, label in row_labels(stage1_epochs, total_epochs).items():
        if key in results:
            cells = ' | '.join(f'{results[key][m]:.2f}' if m in results[key] else 'n/a'
                               for m in TABLE_METRICS)
            rows.append(f'| {label} | {cells} |')
    return '\n'.join(rows)


def published_files(stem: str) -> List[str]:
    """``tools/publish_model.py``'s outputs for ``<stem>.pth``: ``<stem>-<sha256[:8]>.pth``."""
    folder, name = osp.split(stem)
    return sorted(osp.join(folder, f) for f in os.listdir(folder)
                  if re.fullmatch(re.escape(name) + r'-[0-9a-f]{8}\.pth', f))


def _read_predictions(path: str) -> List[List[str]]:
    with open(path, newline='') as f:
        return list(csv.reader(f))[1:]


def csv_top1_error(path: str) -> float:
    """Top-1 error (%) of an infer.py CSV over images stored as ``<split>/<class id>/<file>``."""
    rows = [r for r in _read_predictions(path) if not r[-1]]
    wrong = sum(r[1] != osp.basename(osp.dirname(r[0])) for r in rows)
    return 100.0 * wrong / max(len(rows), 1)


def format_predictions(path: str, data_root: str, per_class: int = 1) -> str:
    """A few rows of an infer.py CSV: image, true class, top-2 predictions."""
    rows, seen = [], {}
    for row in _read_predictions(path):
        label = osp.basename(osp.dirname(row[0]))
        if seen.get(label, 0) < per_class and label in ('00000', '00003', '00006', '00009'):
            seen[label] = seen.get(label, 0) + 1
            rows.append(f'    {osp.relpath(row[0], data_root):<22}{label:<8}'
                        f'{row[1]} ({float(row[2]):.3f}), {row[3]} ({float(row[4]):.3f})')
    header = f'    {"image":<22}{"class":<8}predicted (probability), runner-up'
    return '\n'.join([header] + rows)
