"""Write the classifier's input features of a split to an .npz file.

    python tools/extract_features.py CONFIG CKPT --split val --out work_dirs/feats/val.npz
    python tools/extract_features.py CONFIG CKPT --split train --out train.npz --pool

The split is read with the config's test pipeline (the training split with its cap, in
dataset order). ``FILE.npz`` (read with ``np.load(FILE, allow_pickle=False)``) holds
``features`` (N, D) float16, ``labels`` (N,) int64 (-1 for an unlabelled split) and
``image_ids`` (N,) bytes (each image's path relative to the split's image folder, e.g.
``00012/1849756.jpg``). With ``--pool`` it also holds ``class_means`` (C, D) float32, each
class's mean of L2-normalised features (what ``NCMHead`` compares with, before its own
normalisation), and ``class_counts`` (C,) int64.

Memory while running is one batch plus (with ``--pool``) one (C, D) sum: the features go
straight to ``.npy`` files opened as memory maps beside the output, which are packed into the
``.npz`` (streamed, uncompressed) and removed at the end.
"""
import argparse
import os
import os.path as osp
import sys
import tempfile
import zipfile

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from mmengine.config import Config  # noqa: E402
from mmengine.utils import ProgressBar  # noqa: E402

import aliprod_plugins  # noqa: E402,F401  registration and safe checkpoint loading
from aliprod_plugins.apis.features import (SPLITS, add_class_sums, iter_split,  # noqa: E402
                                           load_classifier, split_loader)
from aliprod_plugins.cli import (add_cfg_options_args, add_device_arg,  # noqa: E402
                                 add_model_args, load_config, run_tool)
from aliprod_plugins.engine import shutdown_workers  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Extract head-input features of a split')
    add_model_args(parser)
    parser.add_argument('--split', choices=SPLITS, default='val',
                        help='which dataloader of the config (default: val)')
    parser.add_argument('--out', required=True, help='output .npz file')
    parser.add_argument('--pool', action='store_true',
                        help='also write class_means / class_counts (default: off)')
    add_device_arg(parser)
    add_cfg_options_args(parser)
    args = parser.parse_args(argv)
    if not args.out.endswith('.npz'):
        parser.error(f'--out must be a .npz file, got {args.out!r}')
    return args


def extract(cfg: Config, checkpoint: str, split: str, out: str, pool: bool = False,
            device: str = 'cpu') -> dict:
    """Write ``out`` as described in the module docstring; return counts for the summary."""
    model, _ = load_classifier(cfg, checkpoint, device)
    loader = split_loader(cfg, split)
    dataset = loader.dataset
    n, dim = len(dataset), model.head.fc.in_features
    num_classes = model.head.fc.out_features
    prefix = dataset.data_prefix.get('img_path', '') if hasattr(dataset, 'data_prefix') else ''
    folder = osp.dirname(osp.abspath(out))
    os.makedirs(folder, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder, prefix='.extract_') as tmp:
        feats = np.lib.format.open_memmap(osp.join(tmp, 'features.npy'), mode='w+',
                                          dtype=np.float16, shape=(n, dim))
        labels = np.lib.format.open_memmap(osp.join(tmp, 'labels.npy'), mode='w+',
                                           dtype=np.int64, shape=(n, ))
        sums = torch.zeros(num_classes, dim, dtype=torch.float64, device=device)
        counts = torch.zeros(num_classes, dtype=torch.int64, device=device)
        ids_txt, pos = open(osp.join(tmp, 'ids.txt'), 'wb'), 0
        bar = ProgressBar(n)
        for batch, batch_labels, paths in iter_split(model, loader):
            b = len(batch_labels)
            feats[pos:pos + b] = batch.float().cpu().numpy().astype(np.float16)
            labels[pos:pos + b] = batch_labels
            for path in paths:
                ids_txt.write(osp.relpath(path, prefix).encode() + b'\n' if prefix else
                              path.encode() + b'\n')
            if pool and (batch_labels >= 0).any():
                keep = torch.from_numpy(batch_labels >= 0)
                add_class_sums(sums, counts, batch[keep.to(batch.device)],
                               torch.from_numpy(batch_labels[keep.numpy()]).to(device))
            pos += b
            bar.update(b)
        ids_txt.close()
        shutdown_workers(loader)
        if pos != n:
            raise RuntimeError(f'the {split} loader gave {pos} images, the dataset has {n}')
        feats.flush()
        labels.flush()
        # O(N) bytes for the ids (not N x D): the longest id sets the width
        with open(osp.join(tmp, 'ids.txt'), 'rb') as f:
            ids = np.asarray(f.read().split(b'\n')[:n], dtype=np.bytes_)
        arrays = dict(features=osp.join(tmp, 'features.npy'), labels=osp.join(tmp, 'labels.npy'))
        extra = dict(image_ids=ids)
        if pool:
            c = counts.cpu().numpy()
            means = (sums / counts.clamp(min=1)[:, None]).float().cpu().numpy()
            extra.update(class_means=means, class_counts=c)
        partial = osp.join(tmp, 'out.npz')
        write_npz(partial, arrays, extra)
        os.replace(partial, out)  # a half-written file never carries the final name
    print(f'\nwritten {out}: {n} {split} images x {dim} features (float16)'
          + (f', class means of {int((counts > 0).sum())} of {num_classes} classes' if pool
             else '') + '; skipped 0')
    return dict(images=n, dim=dim)


def write_npz(path: str, npy_files: dict, arrays: dict) -> None:
    """An uncompressed .npz from ``.npy`` files (copied in chunks) and small arrays."""
    with zipfile.ZipFile(path, 'w', zipfile.ZIP_STORED, allowZip64=True) as zf:
        for name, src in npy_files.items():
            with open(src, 'rb') as f, zf.open(f'{name}.npy', 'w', force_zip64=True) as dst:
                while True:
                    chunk = f.read(1 << 24)
                    if not chunk:
                        break
                    dst.write(chunk)
        for name, array in arrays.items():
            with zf.open(f'{name}.npy', 'w', force_zip64=True) as dst:
                np.lib.format.write_array(dst, np.asarray(array), allow_pickle=False)


def main() -> None:
    args = parse_args()
    cfg = load_config(args)  # options checked, data settings spread
    extract(cfg, args.checkpoint, args.split, args.out, args.pool, args.device)


if __name__ == '__main__':
    run_tool(main)
