"""Calibrate a trained classifier after training: tau-normalisation or logit adjustment.

    python tools/tau_norm.py configs/aliprod/resnest50_stage1.py work_dirs/.../epoch_40.pth
    python tools/tau_norm.py CONFIG CKPT --taus 0 0.5 1 --out-dir work_dirs/tau
    python tools/tau_norm.py CONFIG CKPT --logit-adjust

Computes the classifier inputs (``head.fc``'s input) of the validation split once (with a
progress bar), then for each tau evaluates W / ||W||^tau without bias (or, with
``--logit-adjust``, the logits minus tau * log(training prior)) with LongTailAccuracy's
computation, prints tau vs metrics, picks the tau with the best mean class accuracy (the first
listed on ties) and writes to ``--out-dir`` (default: ``<checkpoint dir>/tau_norm`` or
``/logit_adjust``): ``sweep.json`` / ``sweep.csv`` (tau vs metrics), ``best.json`` (the
chosen tau and its metrics), ``best_per_class.csv`` and ``<checkpoint>_<mode>_tau<best>.pth``
with the calibrated head.
Training class counts (shot groups, prior) come from ``train_dataloader.dataset`` as in
``tools/test.py`` (the dataset's own counts after capping, packed or not), or from
``--class-counts FILE.npy``.

An ``LWSHead`` (``s * (W x + b)``) is folded first: W and b are the learnt scales times the
stage-1 classifier, and the written checkpoint holds the calibrated W and b with the scales set
to 1. Both the "original" row and the chosen tau's row are what ``tools/test.py`` reports on the
input and on the written checkpoint; a head whose logits are not its linear layer's (checked on
the first batch) is refused.
"""
import argparse
import os.path as osp
import sys

sys.path[:0] = [osp.dirname(osp.dirname(osp.abspath(__file__))), osp.dirname(osp.abspath(__file__))]

import numpy as np  # noqa: E402
import torch  # noqa: E402
from mmengine.config import Config  # noqa: E402
from mmengine.registry import init_default_scope  # noqa: E402
from mmengine.runner import Runner  # noqa: E402
from mmengine.utils import ProgressBar  # noqa: E402

import aliprod_plugins  # noqa: E402,F401  registration
from aliprod_plugins.cli import (add_cfg_options_args, add_device_arg,  # noqa: E402
                                 add_model_args, apply_cfg_options, load_model, run_tool)
from aliprod_plugins.engine import shutdown_workers  # noqa: E402
from aliprod_plugins.evaluation import (build_train_dataset, counts_from_dataset,  # noqa: E402
                                        load_class_counts)
from aliprod_plugins.evaluation.calibration import best_index, predict_topk, sweep  # noqa: E402
from aliprod_plugins.evaluation.functional import long_tail_metrics  # noqa: E402
from aliprod_plugins.models import LWSHead  # noqa: E402
from tau_norm_report import SELECT_BY, format_sweep, write_outputs  # noqa: E402

DEFAULT_TAUS = [round(0.1 * i, 1) for i in range(21)]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Tau-normalise / logit-adjust a classifier')
    add_model_args(parser)
    parser.add_argument('--taus', type=float, nargs='+', default=DEFAULT_TAUS,
                        help='values of tau to try (default: 0 0.1 ... 2.0)')
    parser.add_argument('--logit-adjust', action='store_true',
                        help='sweep logit adjustment by the training prior instead')
    parser.add_argument('--out-dir', help='output folder (default: <checkpoint dir>/tau_norm '
                        'or /logit_adjust)')
    parser.add_argument('--class-counts', help='.npy file of training images per class '
                        '(default: counted from train_dataloader.dataset)')
    add_device_arg(parser, 'device for the features and the sweep (default: cuda if present)')
    add_cfg_options_args(parser)
    return parser.parse_args()


def load_linear_classifier(cfg: Config, checkpoint: str, device: str) -> torch.nn.Module:
    """The config's model with the checkpoint's weights, refused unless its head has a linear fc."""
    model = load_model(cfg, checkpoint, device)
    fc = getattr(getattr(model, 'head', None), 'fc', None)
    if not isinstance(fc, torch.nn.Linear):
        raise ValueError(f'{checkpoint}: expected a model whose head has a linear `fc` '
                         f'(LinearClsHead), got head {type(getattr(model, "head", None))}')
    return model


def linear_head(model: torch.nn.Module) -> tuple:
    """The ``(weight, bias)`` the head's logits are made of, LWS scales folded in."""
    fc = model.head.fc
    weight = fc.weight.detach()
    bias = None if fc.bias is None else fc.bias.detach()
    if isinstance(model.head, LWSHead):  # s * (W x + b) = (s W) x + s b
        scales = model.head.scales.detach()
        weight = weight * scales[:, None]
        bias = None if bias is None else bias * scales
    return weight, bias


@torch.no_grad()
def extract_features(model: torch.nn.Module, loader, device: str):
    """Return the ``head.fc`` inputs ``(N, D)`` and true labels ``(N,)`` of a dataloader.

    On the first batch the head's own logits are compared with the linear classifier of
    :func:`linear_head`: a head that computes anything else is refused (its sweep would not
    be what ``tools/test.py`` sees).
    """
    feats, labels = [], []
    weight, bias = linear_head(model)
    bar = ProgressBar(len(loader), file=sys.stdout)  # the current stdout, not import-time
    for data in loader:
        data = model.data_preprocessor(data, False)
        backbone_feats = model.extract_feat(data['inputs'])
        feats.append(model.head.pre_logits(backbone_feats).float())
        if len(feats) == 1:
            _check_linear(model.head(backbone_feats).float(), feats[0] @ weight.float().t()
                          + (0 if bias is None else bias.float()), type(model.head).__name__)
        for sample in data['data_samples']:
            if 'gt_label' not in sample:
                raise ValueError('tau_norm.py needs a labelled split (val_dataloader), got a '
                                 'data sample without gt_label')
            labels.append(int(sample.gt_label.reshape(-1)[0]))
        bar.update()
    sys.stdout.write('\n')
    dim = model.head.fc.in_features
    return (torch.cat(feats) if feats else torch.zeros(0, dim, device=device),
            np.asarray(labels, dtype=np.int64))


def _check_linear(logits: torch.Tensor, linear: torch.Tensor, head: str) -> None:
    if not torch.allclose(logits, linear, rtol=1e-4, atol=1e-4 * float(linear.abs().max())):
        raise ValueError(f'tau_norm.py calibrates heads whose logits are fc(pre_logits(x)) '
                         f'(LinearClsHead, LWSHead), got {head} whose logits differ by up to '
                         f'{float((logits - linear).abs().max()):.3g}')


def train_counts(cfg: Config, path: str = None):
    if path is not None:
        return load_class_counts(path, '--class-counts')
    try:
        return counts_from_dataset(build_train_dataset(cfg.get('train_dataloader')))
    except Exception as err:  # noqa: BLE001
        print(f'warning: no training class counts ({type(err).__name__}: {err}); shot metrics '
              'skipped', file=sys.stderr)
        return None


def metric_options(cfg: Config) -> dict:
    """topk and shot thresholds of the config's LongTailAccuracy (defaults otherwise)."""
    evaluator = cfg.get('val_evaluator') or {}
    metrics = evaluator if isinstance(evaluator, (list, tuple)) else [evaluator]
    for m in metrics:
        if isinstance(m, dict) and m.get('type') == 'LongTailAccuracy':
            return dict(topk=tuple(m.get('topk', (1, 5))),
                        many_shot_thr=m.get('many_shot_thr', 100),
                        few_shot_thr=m.get('few_shot_thr', 20))
    return dict(topk=(1, 5), many_shot_thr=100, few_shot_thr=20)


def main() -> None:
    args = parse_args()
    cfg = Config.fromfile(args.config)
    apply_cfg_options(cfg, args)
    init_default_scope(cfg.get('default_scope', 'mmpretrain'))
    mode = 'logit_adjust' if args.logit_adjust else 'tau_norm'
    out_dir = args.out_dir or osp.join(osp.dirname(osp.abspath(args.checkpoint)), mode)
    counts = train_counts(cfg, args.class_counts)
    if mode == 'logit_adjust' and counts is None:
        raise ValueError('--logit-adjust needs training class counts: give --class-counts or a '
                         'config whose train_dataloader.dataset can be built')
    opts = metric_options(cfg)

    model = load_linear_classifier(cfg, args.checkpoint, args.device)
    loader = Runner.build_dataloader(cfg.val_dataloader)
    feats, gt = extract_features(model, loader, args.device)
    shutdown_workers(loader)  # persistent workers: now, not 5 s each at exit (GPU)
    weight, bias = linear_head(model)  # what the input checkpoint's logits are made of
    original = dict(zip(('metrics', 'per_class'), long_tail_metrics(
        predict_topk(feats, weight, bias, max(opts['topk'])), gt, opts['topk'],
        weight.size(0), counts, opts['many_shot_thr'], opts['few_shot_thr'])))
    rows = sweep(feats, gt, weight, bias, args.taus, mode, counts, **opts)
    best = best_index(rows, SELECT_BY)

    keys = list(rows[0]['metrics'])
    table = [dict(original, label='original')] + [dict(r, label=f'{r["tau"]:g}') for r in rows]
    print(f'{mode}: {len(gt)} validation images, {weight.size(0)} classes')
    print(format_sweep(table, keys))
    print(f'best tau by {SELECT_BY}: {rows[best]["tau"]:g}')
    classes = (getattr(loader.dataset, 'metainfo', None) or {}).get('classes')
    write_outputs(out_dir, args, mode, rows, best, original, weight, bias, counts, classes)


if __name__ == '__main__':
    run_tool(main)
