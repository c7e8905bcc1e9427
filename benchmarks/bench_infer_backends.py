"""Prediction speed of the PyTorch and onnxruntime backends of ``tools/infer.py`` on CPU.

For the demo model (``configs/demo/digits_lt_two_stage.py``, ResNet-18 at 1/4 width, 24 px,
10 classes) and the recipe model (``configs/aliprod/resnest50_stage1.py``, ResNeSt-50 at
112 px, 50,030 classes), both randomly initialised (speed does not depend on the weights),
it exports with ``tools/export_onnx.py --dynamic-batch`` (printing its parity check), then
prints images/s at batch 32 with the same number of threads for both backends:

- ``model``: preprocessed batches only (PyTorch ``test_step`` incl. its data preprocessor,
  onnxruntime incl. :func:`~aliprod_plugins.deploy.preprocess`), best of ``--rounds``;
- ``end to end``: ``predict()`` from JPEG files (decode + test pipeline + model + top-5),
  one process (``num_workers=0``), best of 2 interleaved rounds;

and the parity of the two on every benchmark image (max |prob diff|, top-1 agreement).
Usage::

    python benchmarks/bench_infer_backends.py --threads 1     # ~6 min on 2 cores
    python benchmarks/bench_infer_backends.py --models demo --threads 2

On a loaded machine (other processes on the same cores) PyTorch's intra-op threads fall
behind: with 2 threads at a load average of 17 on 2 cores the demo model's ``test_step``
took 1.1 s per batch of 32, against 0.08 s with 1 thread. Compare at ``--threads 1`` there,
at normal priority (under ``nice -n 19`` at that load it got a few seconds of CPU a minute).
"""
import argparse
import os
import os.path as osp
import sys
import tempfile
import time

import numpy as np
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope
from PIL import Image

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from aliprod_plugins.apis import Predictor  # noqa: E402
from aliprod_plugins.apis.predictor import collate  # noqa: E402
from aliprod_plugins.deploy import OnnxPredictor  # noqa: E402

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
MODELS = {'demo': ('configs/demo/digits_lt_two_stage.py', 10),
          'resnest50': ('configs/aliprod/resnest50_stage1.py', 50030)}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--num-images', type=int, default=256,
                        help='JPEGs of 200x160 px per model (default: 256)')
    parser.add_argument('--batch-size', type=int, default=32, help='(default: 32)')
    parser.add_argument('--threads', type=int, default=os.cpu_count(),
                        help='threads of both backends (default: the CPU count)')
    parser.add_argument('--rounds', type=int, default=3, help='model-only rounds (default: 3)')
    parser.add_argument('--models', nargs='+', choices=sorted(MODELS), default=sorted(MODELS),
                        help='(default: both)')
    return parser.parse_args()


def write_checkpoint(config: str, path: str, num_classes: int) -> None:
    """A random model with class ids, head weights scaled so that the scores spread."""
    from mmpretrain.registry import MODELS as REGISTRY
    cfg = Config.fromfile(config)
    torch.manual_seed(0)
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        model = REGISTRY.build(dict(cfg.model, data_preprocessor=cfg.data_preprocessor))
    with torch.no_grad():
        model.head.fc.weight.mul_(20.0)
    classes = tuple(f'{i:05d}' for i in range(num_classes))
    torch.save({'meta': {'dataset_meta': {'classes': classes}},
                'state_dict': model.state_dict()}, path)


def make_images(folder: str, count: int) -> list:
    rng = np.random.default_rng(0)
    os.makedirs(folder, exist_ok=True)
    paths = []
    for i in range(count):
        ramp = np.linspace(0, 1, 200)[None, :, None] * rng.integers(0, 256, (1, 1, 3))
        img = np.clip(ramp + rng.normal(0, 30, (160, 200, 3)), 0, 255).astype(np.uint8)
        paths.append(osp.join(folder, f'{i}.jpg'))
        Image.fromarray(img).save(paths[-1], quality=90)
    return paths


def model_only(torch_pred: Predictor, onnx_pred: OnnxPredictor, paths: list, args) -> dict:
    """Images/s of both models on preprocessed batches, and their parity."""
    batches = [collate([dict(index=i, data=torch_pred.pipeline(dict(img_path=p)))
                        for i, p in enumerate(paths[s:s + args.batch_size])])[1]
               for s in range(0, len(paths), args.batch_size)]
    best = {'pytorch': float('inf'), 'onnxruntime': float('inf')}
    max_diff, max_log, agree, top1 = 0.0, 0.0, 0, []
    for round_ in range(args.rounds + 1):  # round 0 warms up and measures parity
        for name in best:
            start = time.perf_counter()
            for batch in batches:
                if name == 'pytorch':
                    with torch.no_grad():
                        out = torch.stack([s.pred_score for s in torch_pred.model.test_step(batch)])
                    if round_ == 0:
                        batch['torch'] = out.numpy()
                else:
                    probs = onnx_pred.classifier.probs(batch['inputs'])
                    if round_ == 0:
                        max_diff = max(max_diff, float(np.abs(probs - batch['torch']).max()))
                        # relative: near-uniform 50,030-way scores make the absolute one small
                        log_diff = np.abs(np.log(probs) - np.log(batch['torch']))
                        max_log = max(max_log, float(log_diff.max()))
                        agree += int((probs.argmax(1) == batch['torch'].argmax(1)).sum())
                        top1.extend(probs.max(1).tolist())
            if round_:
                best[name] = min(best[name], time.perf_counter() - start)
    return dict({k: len(paths) / v for k, v in best.items()}, max_diff=max_diff, agree=agree,
                max_log=max_log, top1=float(np.median(top1)))


def end_to_end(predictor, paths: list, args) -> float:
    start = time.perf_counter()
    for _ in predictor.predict(paths, 5, args.batch_size, num_workers=0):
        pass
    return len(paths) / (time.perf_counter() - start)


def main() -> None:
    args = parse_args()
    torch.set_num_threads(args.threads)
    print(f'load before: {os.getloadavg()[0]:.1f} (1 min), {os.cpu_count()} CPUs, '
          f'{args.threads} threads per backend, batch {args.batch_size}', flush=True)
    sys.argv = sys.argv[:1]
    import importlib.util
    spec = importlib.util.spec_from_file_location('export_onnx', osp.join(REPO, 'tools',
                                                                          'export_onnx.py'))
    export_tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(export_tool)
    with tempfile.TemporaryDirectory() as tmp:
        paths = make_images(osp.join(tmp, 'imgs'), args.num_images)
        for name, (config, num_classes) in MODELS.items():
            if name not in args.models:
                continue
            config = osp.join(REPO, config)
            ckpt, onnx = osp.join(tmp, f'{name}.pth'), osp.join(tmp, name, 'model.onnx')
            write_checkpoint(config, ckpt, num_classes)
            start = time.perf_counter()
            export_tool.main([config, ckpt, '--out', onnx, '--dynamic-batch'])
            print(f'{name}: export + check {time.perf_counter() - start:.1f} s, '
                  f'{osp.getsize(onnx) / 2**20:.1f} MiB', flush=True)
            torch_pred = Predictor(config, ckpt, device='cpu')
            onnx_pred = OnnxPredictor(config, onnx, num_threads=args.threads)
            figures = model_only(torch_pred, onnx_pred, paths, args)
            print(f'{name}: model only       pytorch {figures["pytorch"]:8.1f} img/s   '
                  f'onnxruntime {figures["onnxruntime"]:8.1f} img/s', flush=True)
            e2e = {'pytorch': 0.0, 'onnxruntime': 0.0}
            for _ in range(2):  # interleaved, best of 2: load from other processes hits both
                for key, predictor in (('pytorch', torch_pred), ('onnxruntime', onnx_pred)):
                    e2e[key] = max(e2e[key], end_to_end(predictor, paths, args))
            print(f'{name}: end to end (JPEG) pytorch {e2e["pytorch"]:8.1f} img/s   '
                  f'onnxruntime {e2e["onnxruntime"]:8.1f} img/s', flush=True)
            print(f'{name}: parity on {len(paths)} images: max |prob diff| '
                  f'{figures["max_diff"]:.3g}, max |log prob diff| {figures["max_log"]:.3g}, '
                  f'top-1 identical {figures["agree"]}/{len(paths)} '
                  f'(median top-1 probability {figures["top1"]:.3g})',
                  flush=True)
            del torch_pred, onnx_pred
    print(f'load after: {os.getloadavg()[0]:.1f} (1 min)')


if __name__ == '__main__':
    main()
