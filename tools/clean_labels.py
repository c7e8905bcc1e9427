"""Remove training images whose labels the model rejects; keep at least K images of each class.

    python tools/clean_labels.py CONFIG CKPT [CKPT ...] --out data/train_clean.json
    python tools/train.py CONFIG --cfg-options \
        train_dataloader.dataset.ann_file=$PWD/data/train_clean.json

Criterion: for every image of the training split (as ``train_dataloader.dataset`` builds it,
with the config's test pipeline and without ``max_per_class`` capping, so that the result
replaces the original annotation and the capping still applies when training on it), the
probability of its given label under the class-balanced posterior
``softmax(logits - adjust_tau * log(prior))``, averaged over the given checkpoints. The prior is
the one the model was trained with: the class counts of ``train_dataloader.dataset`` as
configured, i.e. **after** capping (classes without images count as one image); this stops tail
images from looking wrong just for being tail. A checkpoint trained with Balanced Softmax
(``BalancedSoftmaxLoss`` in the config) already gives class-balanced logits: it is scored raw
(``--adjust-tau`` defaults to 0 for it, and a positive value is refused: that would adjust
twice). A model fine-tuned with class-balanced sampling is balanced too: pass ``--adjust-tau 0``.
An image is removed when its score is below ``--threshold``, unless it is among the K
best-scored images of its class (``--min-keep``): no class loses its last K images (classes with
fewer keep all). Images that fail to load are listed and not scored (whatever the config's
``on_error``: a resampled image's score would be charged to the bad one); they stay in the
annotation, where training's ``on_error`` decides. Which checkpoints: a network fits clean
labels first and memorises wrong ones late,
mostly after the LR drops (Arpit et al., ICML 2017), so on long runs a model at the end of
training accepts labels it should reject; checkpoints from before the first LR decay, averaged
(an approximation of area-under-margin ranking, Pleiss et al., NeurIPS 2020), avoid that. Measure
it on your schedule: on Digits-LT's short one (20 epochs, 20% flipped labels) the last
checkpoint had not memorised the flips and ranked them better than the early ones
(``benchmarks/sweep_clean_labels.py``; figures in the README).

Memory: O(batch + N) whatever the number of classes C: each batch's ``(B, C)`` logits are
reduced to the label's log-probability at once; the tool holds one float per image (the
running sum of scores), the labels and the list of bad images, never ``N x C``.

Writes ``--out`` in the format of the input annotation (AliProducts JSON or list file), and
next to it ``<stem>_report.json`` (per class: images, removed, kept; the bad images),
``<stem>_removed.csv`` (every removed image with its label and score) and
``<stem>_removed_per_class.png``.
"""
import argparse
import os.path as osp
import sys

sys.path[:0] = [osp.dirname(osp.dirname(osp.abspath(__file__))), osp.dirname(osp.abspath(__file__))]

import numpy as np  # noqa: E402
import torch  # noqa: E402
from mmengine.config import Config  # noqa: E402
from mmengine.registry import init_default_scope  # noqa: E402

import aliprod_plugins  # noqa: E402,F401  registration
from aliprod_plugins.checks import check_int, check_number  # noqa: E402
from aliprod_plugins.cli import (add_cfg_options_args, add_device_arg,  # noqa: E402
                                 apply_cfg_options, load_model, run_tool)
from aliprod_plugins.engine.atomic_io import atomic_write_bytes  # noqa: E402
from aliprod_plugins.evaluation.calibration import log_prior  # noqa: E402
from clean_labels_report import annotation_bytes, write_report  # noqa: E402
from clean_labels_scoring import (build_split, label_scores, select_removed,  # noqa: E402
                                  train_prior_counts, trained_adjustment)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Remove training images with rejected labels')
    parser.add_argument('config', help='config file path')
    parser.add_argument('checkpoints', nargs='+', metavar='CHECKPOINT',
                        help='checkpoint(s) to score with; their scores are averaged')
    parser.add_argument('--out', required=True, help='cleaned annotation to write')
    crit = parser.add_argument_group('criterion')
    crit.add_argument('--threshold', type=float, default=0.1,
                      help='remove an image when its label\'s mean probability is below this '
                      '(default: 0.1)')
    crit.add_argument('--min-keep', type=int, default=5,
                      help='always keep the K best-scored images of each class (default: 5)')
    crit.add_argument('--adjust-tau', type=float, default=None,
                      help='score with logits - tau * log(training prior); 0 scores the raw '
                      'softmax (default: 1.0, or 0 for a Balanced Softmax model)')
    add_device_arg(parser, 'device (default: cuda if present)')
    add_cfg_options_args(parser)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    check_number('--threshold', args.threshold, low=0, high=1, low_open=True)
    check_int('--min-keep', args.min_keep, low=1)
    cfg = Config.fromfile(args.config)
    apply_cfg_options(cfg, args)
    init_default_scope(cfg.get('default_scope', 'mmpretrain'))
    dataset, loader = build_split(cfg)
    labels = np.asarray(dataset.get_gt_labels(), dtype=np.int64)
    total, bad, adjust = np.zeros(len(labels)), None, None
    for i, ckpt in enumerate(args.checkpoints):
        model = load_model(cfg, ckpt, args.device)
        if adjust is None:
            adjust = _adjustment(args, cfg, model)
        what = f'checkpoint {i + 1}/{len(args.checkpoints)} ({ckpt})'
        scores, bad = label_scores(model, loader, labels, adjust, args.device, what)
        total += scores
    scores = total / len(args.checkpoints)  # NaN where an image failed to load
    unscored = np.isnan(scores)
    removed = np.zeros(len(labels), dtype=bool)  # images that failed to load stay, unscored
    removed[~unscored] = select_removed(labels[~unscored], scores[~unscored], args.threshold,
                                        args.min_keep)

    out = osp.abspath(args.out)
    atomic_write_bytes(out, annotation_bytes(dataset, ~removed))
    folder = write_report(out, dataset, labels, scores, removed, args, bad)
    spared = int(((scores < args.threshold) & ~removed).sum())
    classes = int((np.bincount(labels[removed], minlength=dataset.num_classes) > 0).sum())
    print(f'clean_labels: scored {int((~unscored).sum())} images with '
          f'{len(args.checkpoints)} checkpoint(s) (adjust tau {args.adjust_tau:g}); removed '
          f'{int(removed.sum())} ({100 * removed.mean():.1f}%) from {classes} classes, kept '
          f'{int((~removed).sum())} ({spared} below the threshold kept by --min-keep '
          f'{args.min_keep}; {len(bad)} that failed to load kept unscored, listed in the '
          f'report); wrote {out} ({dataset.ann_format}) and its report in {folder}')


def _adjustment(args, cfg: Config, model: torch.nn.Module) -> torch.Tensor:
    """``tau * log(prior)`` of the scoring; refuses to adjust a Balanced Softmax model twice."""
    trained = trained_adjustment(model)
    if args.adjust_tau is None:
        args.adjust_tau = 0.0 if trained else 1.0
    elif trained and args.adjust_tau > 0:
        raise ValueError(f'--adjust-tau {args.adjust_tau:g} with a model trained with '
                         f'BalancedSoftmaxLoss(tau={trained:g}): its logits are class-balanced '
                         f'already, adjusting them again would favour the tail twice; expected '
                         f'--adjust-tau 0 (the default for such a model)')
    num_classes = model.head.num_classes
    counts = train_prior_counts(cfg, num_classes) if args.adjust_tau else np.ones(num_classes)
    return args.adjust_tau * log_prior(counts).float().to(args.device)


if __name__ == '__main__':
    run_tool(main)
