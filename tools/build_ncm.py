"""Replace a trained classifier by nearest class means (NCM) of its own features.

    python tools/build_ncm.py configs/demo/glyphs_lt_stage1.py work_dirs/s1/epoch_12.pth \\
        --out work_dirs/s1/epoch_12_ncm.pth
    python tools/test.py configs/demo/glyphs_lt_ncm.py work_dirs/s1/epoch_12_ncm.pth

Walks the config's training split (with its cap, through the test pipeline), sums each
class's L2-normalised head-input features (memory: one batch plus the (C, D) sums) and writes
a checkpoint whose ``head.fc.weight`` rows are the unit class-mean directions and whose
``head.fc.bias`` is zero (``NCMHead``'s parameters, which are ``LinearClsHead``'s). The
checkpoint says what it is in ``meta['ncm']``. With a config whose head is ``NCMHead``
(``configs/demo/glyphs_lt_ncm.py``: ``model = dict(head=dict(type='NCMHead'))``) the scores are
the cosine similarities; with the original config unchanged, ``tools/test.py``,
``tools/infer.py`` and MMPretrain's inferencer give the same ranking, hence the same top-k
predictions and accuracy. Optimizer state is dropped: the checkpoint is for inference.
"""
import argparse
import io
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import torch  # noqa: E402
from mmengine.config import Config  # noqa: E402
from mmengine.logging import MMLogger  # noqa: E402
from mmengine.utils import ProgressBar  # noqa: E402

import aliprod_plugins  # noqa: E402,F401  registration and safe checkpoint loading
from aliprod_plugins.apis.features import (add_class_sums, iter_split,  # noqa: E402
                                           load_classifier, split_loader, unit_rows)
from aliprod_plugins.cli import (add_cfg_options_args, add_device_arg,  # noqa: E402
                                 add_model_args, load_config, run_tool)
from aliprod_plugins.engine import atomic_write_bytes, shutdown_workers  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Nearest-class-mean head from a checkpoint')
    add_model_args(parser, config_help='config file path (the checkpoint\'s)')
    parser.add_argument('--out', required=True, help='checkpoint to write')
    add_device_arg(parser)
    add_cfg_options_args(parser)
    return parser.parse_args(argv)


def class_means(cfg: Config, model: torch.nn.Module, device: str):
    """Unit mean directions ``(C, D)`` and image counts ``(C,)`` of the training split."""
    loader = split_loader(cfg, 'train')
    num_classes, dim = model.head.fc.out_features, model.head.fc.in_features
    sums = torch.zeros(num_classes, dim, device=device)
    counts = torch.zeros(num_classes, dtype=torch.int64, device=device)
    bar = ProgressBar(len(loader.dataset))
    for feats, labels, _ in iter_split(model, loader):
        if (labels < 0).any():
            raise ValueError('build_ncm.py needs a labelled training split, got an image '
                             'without a label')
        add_class_sums(sums, counts, feats, torch.from_numpy(labels).to(device))
        bar.update(len(labels))
    shutdown_workers(loader)
    return unit_rows(sums).cpu(), counts.cpu()


def main() -> None:
    args = parse_args()
    cfg = load_config(args)  # options checked, data settings spread
    model, ckpt = load_classifier(cfg, args.checkpoint, args.device)
    means, counts = class_means(cfg, model, args.device)
    empty = int((counts == 0).sum())
    if empty:
        MMLogger.get_current_instance().warning(
            f'{empty} of {len(counts)} classes have no training image: their mean is zero '
            '(cosine 0 with every image)')
    state = dict(ckpt.get('state_dict', ckpt))
    state['head.fc.weight'] = means.to(state['head.fc.weight'].dtype).contiguous()
    if 'head.fc.bias' in state:
        state['head.fc.bias'] = torch.zeros_like(state['head.fc.bias'])
    meta = dict(ckpt.get('meta') or {})
    meta['ncm'] = dict(head='NCMHead', source=osp.abspath(args.checkpoint),
                       train_images=int(counts.sum()), classes_without_images=empty)
    buffer = io.BytesIO()
    torch.save({'meta': meta, 'state_dict': state}, buffer)
    atomic_write_bytes(args.out, buffer.getvalue())  # read by later runs: never half a file
    print(f'\nwritten {args.out}: NCM head of {len(counts)} classes from '
          f'{int(counts.sum())} training images; {empty} classes without images (zero rows)')


if __name__ == '__main__':
    run_tool(main)
