"""Precision / recall of ``tools/clean_labels.py``'s criterion by checkpoint choice and threshold.

    python benchmarks/bench_methods.py --seeds 0 1 2     # first: trains the noisy stage 1
    python benchmarks/sweep_clean_labels.py --work-dir work_dirs/bench_methods_digits_lt

Re-scores the flipped-label training split of ``bench_methods.py`` with that run's noisy
stage-1 checkpoints (early ones averaged, as the benchmark does, or the last one), with and
without the prior correction, and prints precision and recall of the removed images against the
known flips at several thresholds (``--min-keep 5``), averaged over the seeds found.
"""
import argparse
import glob
import os.path as osp
import sys

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path[:0] = [ROOT, osp.join(ROOT, 'tools'), osp.dirname(osp.abspath(__file__))]

import clean_labels_scoring as cl  # noqa: E402
import numpy as np  # noqa: E402
from label_noise import flip_labels  # noqa: E402
from mmengine.config import Config  # noqa: E402
from mmengine.registry import init_default_scope  # noqa: E402

from aliprod_plugins.cli import load_model  # noqa: E402
from aliprod_plugins.evaluation.calibration import log_prior  # noqa: E402

THRESHOLDS = (0.05, 0.1, 0.2, 0.3)


def main() -> None:
    parser = argparse.ArgumentParser(description='Sweep the label-cleaning criterion')
    parser.add_argument('--work-dir', default=osp.join(ROOT, 'work_dirs',
                                                       'bench_methods_digits_lt'))
    parser.add_argument('--config', default=osp.join(ROOT, 'configs', 'demo',
                                                     'digits_lt_stage1.py'))
    parser.add_argument('--noise', type=float, default=0.2, help='as in bench_methods.py')
    args = parser.parse_args()
    work = osp.abspath(args.work_dir)
    noisy, flipped = flip_labels(osp.join(work, 'data'), osp.join(work, 'noisy_sweep.txt'),
                                 args.noise)
    cfg = Config.fromfile(args.config)
    cfg.merge_from_dict({'train_dataloader.dataset.data_root': osp.join(work, 'data'),
                         'train_dataloader.dataset.ann_file': noisy,
                         'val_dataloader.num_workers': 0,
                         'val_dataloader.persistent_workers': False})
    init_default_scope('mmpretrain')
    dataset, loader = cl.build_split(cfg)
    labels = np.asarray(dataset.get_gt_labels())
    prior_counts = cl.train_prior_counts(cfg, dataset.num_classes)
    is_flip = np.array([dataset._index.relative_path(i) in flipped for i in range(len(labels))])
    rows = {}
    for seed_dir in sorted(glob.glob(osp.join(work, 'seed*'))):
        ckpts = sorted(glob.glob(osp.join(seed_dir, 'noisy_stage1', 'epoch_*.pth')),
                       key=lambda p: int(p.rsplit('_', 1)[1][:-4]))
        if len(ckpts) < 2:
            continue
        early = _early(seed_dir, ckpts)
        for tau in (1.0, 0.0):
            adjust = tau * log_prior(prior_counts).float()  # the capped training prior
            score = {p: cl.label_scores(load_model(cfg, p, 'cpu'), loader, labels, adjust,
                                        'cpu', osp.basename(p))[0]
                     for p in sorted(set(early + ckpts[-1:]))}
            for name, paths in ((f'early {"+".join(_ep(p) for p in early)}', early),
                                (f'last {_ep(ckpts[-1])}', ckpts[-1:])):
                mean = np.mean([score[p] for p in paths], axis=0)
                for thr in THRESHOLDS:
                    removed = cl.select_removed(labels, mean, thr, 5)
                    hits = int((removed & is_flip).sum())
                    rows.setdefault((name, tau, thr), []).append(
                        (hits / max(int(removed.sum()), 1), hits / int(is_flip.sum())))
    print(f'\n| checkpoints | adjust tau | threshold | precision % | recall % |  ({len(flipped)} '
          'flipped labels; mean over seeds)\n|---|---|---|---|---|')
    for (name, tau, thr), pr in rows.items():
        p, r = np.mean(pr, axis=0) * 100
        print(f'| {name} | {tau:g} | {thr:g} | {p:.1f} | {r:.1f} |')


def _ep(path: str) -> str:
    return osp.basename(path)[len('epoch_'):-len('.pth')]


def _early(seed_dir: str, ckpts: list) -> list:
    """The checkpoints bench_methods.py gave the cleaner (from its log), else the first two."""
    log = osp.join(seed_dir, 'clean_labels.log')
    if osp.isfile(log):
        used = [p for p in ckpts if osp.basename(p) in open(log).read()]
        if used:
            return used
    return ckpts[:2]


if __name__ == '__main__':
    main()
