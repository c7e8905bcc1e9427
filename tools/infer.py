"""Predict the classes of image files with a trained checkpoint and write them to a CSV file.

    python tools/infer.py CONFIG CHECKPOINT photo.jpg more_photos/ list.txt --out preds.csv
    python tools/infer.py CONFIG CHECKPOINT photos/ --topk 5 --tta --device cuda --batch-size 256

INPUT is any mix of image files, folders (searched recursively for image extensions) and
``.txt`` / ``.lst`` files listing one image path per line, or ``path label`` as in the
annotation lists (relative to the list's folder; the label is ignored). The
CSV has the header ``path,pred_1,score_1,...,pred_K,score_K,error``: one row per image in input
order, the catalogue's class ids (``dataset_meta['classes']`` of the checkpoint) with their
softmax probabilities, and the reason in ``error`` when the image could not be read; the file
gets the usual permissions (0644 under umask 022), like the other tools' outputs. Such
images are counted in the summary and the run goes on; it exits with 1 if any failed under
``--strict``, else 0. The preprocessing is the config's test pipeline (``--tta``: its
``tta_pipeline`` with ``tta_model``), exactly as ``tools/test.py`` and MMPretrain's
``ImageClassificationInferencer``. Checkpoints load with ``weights_only=True``.

``--backend onnxruntime --onnx model.onnx`` runs a model from ``tools/export_onnx.py`` instead
(the same CSV; the same loader and test pipeline, normalised as its ``model.json`` says; the
CHECKPOINT must be the one it was exported from; needs ``pip install -e '.[deploy]'``).
"""
import argparse
import csv
import os
import os.path as osp
import sys
import tempfile
import time

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import aliprod_plugins  # noqa: E402,F401  registration and safe checkpoint loading
from aliprod_plugins.apis import Predictor, collect_images  # noqa: E402
from aliprod_plugins.checks import check_int  # noqa: E402
from aliprod_plugins.cli import (CHECKPOINT_HELP, add_cfg_options_args,  # noqa: E402
                                 add_model_args, check_flag, load_config, run_tool)
from aliprod_plugins.engine.checkpoint_match import check_checkpoint  # noqa: E402
from aliprod_plugins.progress import Progress  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Predict image classes to a CSV file')
    add_model_args(parser, checkpoint_help=CHECKPOINT_HELP)
    parser.add_argument('inputs', nargs='+', metavar='INPUT',
                        help='image files, folders (recursive) and .txt/.lst lists of images')
    out = parser.add_argument_group('output')
    out.add_argument('--out', default='predictions.csv',
                     help='CSV file to write (default: predictions.csv)')
    out.add_argument('--topk', type=int,
                     help='predictions per image (default: 5, or the number of classes if fewer)')
    out.add_argument('--strict', action='store_true',
                     help='exit with status 1 when any image could not be read (default: off)')
    run = parser.add_argument_group('run')
    run.add_argument('--batch-size', type=int, default=32, help='images per batch (default: 32)')
    run.add_argument('--num-workers', type=int, default=2,
                     help='image loading processes (default: 2)')
    run.add_argument('--device', help='torch device (default: cuda if available, else cpu)')
    run.add_argument('--tta', action='store_true', help="test-time augmentation: the config's "
                     'tta_model over its tta_pipeline (flip: scores averaged) (default: off)')
    add_cfg_options_args(run)
    run.add_argument('--backend', choices=('pytorch', 'onnxruntime'), default='pytorch',
                     help='run the checkpoint with PyTorch, or --onnx with onnxruntime on CPU '
                     '(default: pytorch)')
    run.add_argument('--onnx', help='model.onnx of tools/export_onnx.py (model.json beside it) '
                     'for --backend onnxruntime')
    run.add_argument('--num-classes', type=int, help='number of classes of the head '
                     "(default: the config's; see tools/train.py --num-classes)")
    args = parser.parse_args(argv)
    if (args.backend == 'onnxruntime') != (args.onnx is not None):
        parser.error(f'--backend onnxruntime and --onnx go together, got --backend '
                     f'{args.backend} and --onnx {args.onnx!r}')
    if args.backend == 'onnxruntime' and (args.tta or args.device not in (None, 'cpu')):
        parser.error('--backend onnxruntime runs the exported test crop on CPU: expected no '
                     f'--tta and --device cpu or none, got --tta={args.tta} --device={args.device}')
    for name in ('topk', 'batch_size'):
        if getattr(args, name) is not None:
            check_flag(parser, check_int, f'--{name.replace("_", "-")}', getattr(args, name),
                       low=1)
    check_flag(parser, check_int, '--num-workers', args.num_workers, low=0)
    if not args.out.endswith('.csv'):
        parser.error(f'--out expects a path ending in .csv, got {args.out!r}')
    return args


def write_predictions(predictor: Predictor, paths: list, args: argparse.Namespace) -> list:
    """Write the CSV (temporary file, then renamed) and return the failed ``(path, error)``."""
    folder = osp.dirname(osp.abspath(args.out))
    os.makedirs(folder, exist_ok=True)
    header = ['path'] + [f'{name}_{k}' for k in range(1, args.topk + 1)
                         for name in ('pred', 'score')] + ['error']
    failed = []
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f'.{osp.basename(args.out)}.', suffix='.tmp')
    try:
        with os.fdopen(fd, 'w', newline='') as f:
            writer = csv.writer(f)
            writer.writerow(header)
            # a bar on a terminal, ten plain lines in a log file
            bar = Progress(len(paths), 'images', file=sys.stderr)
            for index, class_ids, scores, error in predictor.predict(
                    paths, args.topk, args.batch_size, args.num_workers):
                cells = [c for pair in zip(class_ids, (f'{s:.6f}' for s in scores))
                         for c in pair] or [''] * (2 * args.topk)
                writer.writerow([paths[index], *cells, error])
                if error:
                    failed.append((paths[index], error))
                bar.update()
            bar.close()
        umask = os.umask(0)  # mkstemp makes the file 0600; give it what open() would
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, args.out)
    except BaseException:
        if osp.exists(tmp):
            os.unlink(tmp)
        raise
    return failed


def main(argv=None) -> int:
    args = parse_args(argv)
    start = time.time()
    paths, notes = collect_images(args.inputs)
    for note in notes:
        print(f'warning: {note}', file=sys.stderr)
    if not paths:
        raise ValueError(f'no images found in {args.inputs}: expected image files, folders '
                         'holding images, or .txt/.lst lists of image paths')
    cfg = load_config(args)  # options checked, --num-classes spread
    check_checkpoint(cfg, args.checkpoint)  # a head of another size: refused, not IndexError
    if args.backend == 'onnxruntime':
        from aliprod_plugins.deploy import MissingExtraError, OnnxPredictor
        try:
            predictor = OnnxPredictor(cfg, args.onnx, checkpoint=args.checkpoint)
        except MissingExtraError as err:
            sys.exit(f'tools/infer.py: error: {err}')
    else:
        predictor = Predictor(cfg, args.checkpoint, device=args.device, tta=args.tta)
    if args.topk is None:
        args.topk = min(5, len(predictor.classes))
    failed = write_predictions(predictor, paths, args)
    for path, error in failed[:10]:
        print(f'failed: {path}: {error}', file=sys.stderr)
    if len(failed) > 10:
        print(f'failed: ... and {len(failed) - 10} more (see the error column)', file=sys.stderr)
    print(f'{args.out}: {len(paths) - len(failed)} images predicted (top-{args.topk}'
          f'{", TTA" if args.tta else ""}{", onnxruntime" * (args.backend == "onnxruntime")}), '
          f'{len(failed)} failed to load '
          f'({time.time() - start:.1f} s)', flush=True)
    return 1 if failed and args.strict else 0


if __name__ == '__main__':
    run_tool(main)
