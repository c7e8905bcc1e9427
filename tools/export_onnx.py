"""Export a trained classifier to ONNX, checked against PyTorch with onnxruntime.

    python tools/export_onnx.py CONFIG CHECKPOINT --out deploy/model.onnx --dynamic-batch
    python tools/export_onnx.py CONFIG CHECKPOINT --out model.onnx --check photo1.jpg photo2.jpg
    python tools/infer.py CONFIG CHECKPOINT photos/ --backend onnxruntime --onnx model.onnx

The model is backbone + neck + head with a softmax (``torch.onnx`` with the ``torch.export``
exporter): input the data preprocessor's output (float32 N x 3 x H x W, normalised, channels
as the preprocessor gives them), output the class probabilities. ``model.json`` beside it holds
what a server needs: input size, channel order, mean / std, the class ids of the checkpoint's
``dataset_meta['classes']``, the test pipeline, the config's and checkpoint's SHA-256 (see
``aliprod_plugins/deploy/metadata.py``). The export is checked on ``--check`` images (default:
generated ones) through the config's test pipeline: onnxruntime on the metadata's
preprocessing against PyTorch's ``test_step``, top-1 identical and max |probability
difference| <= ``--atol``. A failed check writes nothing and exits with 1, naming the largest
difference. Needs the ``[deploy]`` extra (``pip install -e '.[deploy]'``).
"""
import argparse
import json
import os
import os.path as osp
import shutil
import sys
import tempfile
import time

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmengine.config import Config, DictAction  # noqa: E402

import aliprod_plugins  # noqa: E402,F401  registration and safe checkpoint loading
from aliprod_plugins.apis import Predictor  # noqa: E402
from aliprod_plugins.checks import check_int, check_number  # noqa: E402
from aliprod_plugins.cli import CHECKPOINT_HELP, add_model_args, check_flag, run_tool  # noqa: E402
from aliprod_plugins.deploy import (OnnxClassifier, meta_path_for,  # noqa: E402
                                    onnx_export, require)
from aliprod_plugins.deploy.metadata import input_spec, model_meta  # noqa: E402
from aliprod_plugins.engine.atomic_io import atomic_write_text  # noqa: E402
from aliprod_plugins.transforms import LoadImageScaled  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Export a classifier to ONNX and check it')
    add_model_args(parser, checkpoint_help=CHECKPOINT_HELP)
    parser.add_argument('--out', required=True,
                        help='ONNX file to write; model.json goes beside it as <name>.json')
    parser.add_argument('--opset', type=int, default=18, help='ONNX opset (default: 18)')
    parser.add_argument('--dynamic-batch', action='store_true',
                        help='free batch dimension (default: off, a fixed batch of 1)')
    check = parser.add_argument_group('check')
    check.add_argument('--check', nargs='+', metavar='IMAGE',
                       help='images to compare PyTorch and onnxruntime on (default: generated)')
    check.add_argument('--num-generated', type=int, default=8,
                       help='generated check images without --check (default: 8)')
    check.add_argument('--atol', type=float, default=1e-4,
                       help='largest |probability difference| allowed (default: 1e-4)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, key=value pairs')
    args = parser.parse_args(argv)
    if not args.out.endswith('.onnx'):
        parser.error(f'--out expects a path ending in .onnx, got {args.out!r}')
    if args.opset < 18:
        parser.error(f'--opset must be >= 18 (torch.onnx\'s torch.export exporter), '
                     f'got {args.opset}')
    check_flag(parser, check_int, '--num-generated', args.num_generated, low=1)
    check_flag(parser, check_number, '--atol', args.atol, low=0, low_open=True)
    return args


def export_and_check(args: argparse.Namespace, workdir: str) -> dict:
    """Export into ``workdir``, check, and return the metadata (with the check's figures)."""
    cfg = Config.fromfile(args.config)
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    predictor = Predictor(cfg, args.checkpoint, device='cpu')
    model, pipeline = predictor.model.eval(), predictor.pipeline
    paths = args.check or onnx_export.make_check_images(
        osp.join(workdir, 'check_images'), args.num_generated)
    loader = pipeline.transforms[0]
    loader_order = loader.channel_order if isinstance(loader, LoadImageScaled) else 'bgr'
    size = onnx_export.pipeline_size(pipeline, paths)
    spec = input_spec(model.data_preprocessor, loader_order, size, args.dynamic_batch)
    onnx_path = osp.join(workdir, osp.basename(args.out))
    print(f'exporting {type(model.backbone).__name__} + {type(model.head).__name__} '
          f'({len(predictor.classes)} classes, input {spec["shape"]}, opset {args.opset})...',
          flush=True)
    onnx_export.export_onnx(model, onnx_path, spec['shape'][2:], args.opset, args.dynamic_batch)
    meta = model_meta(onnx_path, spec, predictor.classes, cfg.test_dataloader.dataset.pipeline,
                      args.config, args.cfg_options, args.checkpoint, args.opset, check={})
    result = onnx_export.check_export(model, pipeline, OnnxClassifier(onnx_path, meta), paths)
    meta['check'] = dict(result, atol=args.atol, generated=not args.check)
    return meta


def main(argv=None) -> int:
    args = parse_args(argv)
    start = time.time()
    for module in ('onnx', 'onnxscript', 'onnxruntime'):
        require(module, 'tools/export_onnx.py')
    folder = osp.dirname(osp.abspath(args.out))
    os.makedirs(folder, exist_ok=True)
    workdir = tempfile.mkdtemp(dir=folder, prefix='.export_onnx.')
    try:
        meta = export_and_check(args, workdir)
        check = meta['check']
        print(f'check on {check["images"]} {"generated " if check["generated"] else ""}images: '
              f'top-1 identical {check["top1_agree"]}/{check["images"]}, max |prob diff| '
              f'{check["max_abs_prob_diff"]:.3g} (at most {args.atol:g})', flush=True)
        if check['top1_disagree'] or check['max_abs_prob_diff'] > args.atol:
            raise ValueError(
                f'the ONNX model differs from PyTorch: largest |prob diff| '
                f'{check["max_abs_prob_diff"]:.3g} (allowed {args.atol:g}) on '
                f'{check["worst_image"]} class index {check["worst_class"]}, top-1 differs on '
                f'{len(check["top1_disagree"])} of {check["images"]} images; nothing written')
        written = []
        for name in sorted(os.listdir(workdir)):  # model.onnx (and model.onnx.data if large)
            if name.startswith(osp.basename(args.out)):
                os.replace(osp.join(workdir, name), osp.join(folder, name))
                written.append(name)
        atomic_write_text(meta_path_for(args.out), json.dumps(meta, indent=1) + '\n')
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(f'{args.out}: wrote {", ".join(written)} and {osp.basename(meta_path_for(args.out))}'
          f' ({len(meta["classes"])} classes, {time.time() - start:.1f} s)', flush=True)
    return 0


if __name__ == '__main__':
    run_tool(main)
