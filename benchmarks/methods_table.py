"""The table of ``bench_methods.py``: mean ± std over seeds, and each method's CPU time."""
from typing import Dict, List, Optional

import numpy as np
from methods_bench import Bench

ROWS = [('stage1', 'stage 1 (instance-balanced)'), ('two_stage', 'two-stage (sampler switch)'),
        ('crt', 'cRT'), ('lws', 'LWS'), ('tau_norm', 'tau-norm (tau picked on val)'),
        ('bs', 'Balanced Softmax (one stage)'),
        ('wb', 'weight balancing (WD, then MaxNorm)'),
        ('ncm', 'NCM (cosine to class means, stage-1 features)'),
        ('noisy_two_stage', 'noisy: two-stage'),
        ('cleaned_two_stage', 'noisy: cleaned, then stage 2 only'),
        ('cleaned_retrain', 'noisy: cleaned, two-stage retrained')]
#: rows whose CPU time excludes the stage 1 they start from
_SHARE_STAGE1 = ('two_stage', 'crt', 'lws', 'tau_norm', 'ncm')
_NOISY = ('noisy_two_stage', 'cleaned_two_stage', 'cleaned_retrain')


def mean_std(values: List[Optional[float]]) -> str:
    """``'mean ± std'`` (sample std, two decimals) of the values given, ``'n/a'`` if none."""
    arr = np.asarray([v for v in values if v is not None], dtype=float)
    if not len(arr):
        return 'n/a'
    return f'{arr.mean():.2f} ± {arr.std(ddof=1) if len(arr) > 1 else 0.0:.2f}'


def table(bench: Bench, results: List[Dict]) -> str:
    """The Markdown table of the rows every seed has, and the cleaner's precision / recall."""
    lines = [f'| {bench.args.dataset}, seeds {" ".join(map(str, bench.args.seeds))} | mean class '
             'acc % | few-shot acc % | CPU s per seed |', '|---|---|---|---|']
    shared = bench.mean_cpu('stage1')
    for key, label in ROWS:
        if any(key not in r for r in results):
            continue
        cpu = bench.mean_cpu(key)
        note = f' (+{shared:.0f} stage 1)' if key in _SHARE_STAGE1 else ''
        if key == 'wb':
            note = f' (+{shared:.0f} stage 1)' if bench.wb_shares_stage1 else \
                f' (+{bench.mean_cpu("wb_stage1"):.0f} its stage 1)'
        if key in _NOISY:
            note = f' (+{bench.mean_cpu("noisy_stage1"):.0f} noisy stage 1)'
        lines.append(f'| {label} | {mean_std([r[key].get("mean_class_acc") for r in results])} '
                     f'| {mean_std([r[key].get("few_shot_acc") for r in results])} '
                     f'| {cpu:.0f}{note} |')
    if 'cleaner' in results[0]:
        a = bench.args
        p = mean_std([100 * r['cleaner']['precision'] for r in results])
        r_ = mean_std([100 * r['cleaner']['recall'] for r in results])
        lines.append(f'\ncleaner (tools/clean_labels.py, {a.clean_from} checkpoints, '
                     f'threshold {a.clean_threshold:g}): precision {p} %, recall '
                     f'{r_} % of the {100 * a.noise:.0f}% flipped labels')
    return '\n'.join(lines)
