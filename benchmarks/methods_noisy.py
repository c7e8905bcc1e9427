"""The noisy-label rows of ``bench_methods.py``: flipped labels, no cleaning vs cleaned.

Stage 1 on the noisy labels, then stage 2 from its last checkpoint on the noisy labels (no
cleaning) or on the labels ``tools/clean_labels.py`` kept (scored with the noisy run's
checkpoints from before the first LR decay, or ``--clean-from last``), and both stages
retrained on the kept labels; the cleaner's precision / recall against the known flips.
"""
import os.path as osp
from typing import Dict

from label_noise import flip_labels, precision_recall
from methods_bench import TOOLS, Bench


def run_noisy(bench: Bench, seed: int, w: str) -> Dict[str, Dict[str, float]]:
    """The noisy rows of one seed (work dir ``w``) and the cleaner's precision / recall."""
    a = bench.args
    noisy_ann, flipped = flip_labels(bench.data, osp.join(bench.work, 'noisy_train.txt'),
                                     a.noise)
    s1 = bench.train('noisy_stage1', 'stage1', f'{w}/noisy_stage1', seed, bench.e1,
                     ann_file=noisy_ann, extra=bench.stage1_opts())
    res = {'noisy_two_stage': bench.two_stage('noisy_two_stage', f'{w}/noisy_two_stage', seed,
                                              resume=s1, ann_file=noisy_ann)}
    # the cleaner scores with the noisy run's checkpoints from before the first LR decay
    # (default) or with its last one; other choices get their own folders
    epochs = (sorted({max(1, bench.milestones[0] // 2), bench.milestones[0]})
              if a.clean_from == 'early' else [bench.e1])
    tag = '' if (a.clean_from, a.clean_threshold) == ('early', 0.1) else \
        f'_{a.clean_from}{a.clean_threshold:g}'
    cleaned = f'{w}/cleaned{tag}/train_clean.txt'
    bench.run('cleaned_two_stage', [
        osp.join(TOOLS, 'clean_labels.py'), bench.cfg['stage1'],
        *[f'{w}/noisy_stage1/epoch_{e}.pth' for e in epochs], '--out', cleaned,
        '--threshold', str(a.clean_threshold), '--device', 'cpu', '--cfg-options',
        *bench.data_opts(noisy_ann)], f'{w}/clean_labels{tag}.log', cleaned)
    res['cleaned_two_stage'] = bench.two_stage(
        'cleaned_two_stage', f'{w}/cleaned_two_stage{tag}', seed, resume=s1, ann_file=cleaned)
    # the fair comparison: both stages retrained on the cleaned labels
    s1c = bench.train('cleaned_retrain', 'stage1', f'{w}/cleaned_stage1{tag}', seed, bench.e1,
                      ann_file=cleaned, extra=bench.stage1_opts())
    res['cleaned_retrain'] = bench.two_stage(
        'cleaned_retrain', f'{w}/cleaned_retrain{tag}', seed, resume=s1c, ann_file=cleaned)
    res['cleaner'] = precision_recall(cleaned.replace('.txt', '_removed.csv'), flipped)
    return res
