"""Add new classes to a trained classifier from a few images each, without training.

    python tools/enroll_classes.py CONFIG CKPT --images new_products.txt --out grown.pth
    python tools/test.py CONFIG grown.pth --cfg-options model.head.num_classes=1050 ...
    python tools/infer.py CONFIG grown.pth photos/ --cfg-options model.head.num_classes=1050

``--images`` is a list file, one ``path class_id`` per line (the AliProducts / MMPretrain list
format; relative paths are relative to the list's folder; blank lines and ``#`` comments are
skipped). For each new class id, in the order of first appearance, one head row is appended:
the direction of the mean of its images' head-input features (the config's test pipeline)
minus the training split's mean feature ``mu``, scaled to the mean norm of the existing rows so
that it competes with them on equal terms, with the bias ``mean(b) - w . mu`` (so the new
logit is ``w . (x - mu) + mean(b)``). Centring is what measured best on Glyphs-LT (stage-1
model, 50 classes held out, k = 5): the uncentred NCM direction (``--no-center``, the
normalised mean of normalised features) reached 98.6% on the new classes but took old
classes from 72.5% to 56.1% (post-ReLU features all share one direction, so an uncentred row
scores high on every image); centred, 87.2% new and 70.8% old. ``mu`` is averaged over up to
``--center-images`` evenly spaced training images (memory: one batch) and kept in
``meta['feature_mean']``, so later enrolments reuse it. Every existing row, bias and class id
stays bit-identical. The grown checkpoint's ``meta['dataset_meta']['classes']`` lists the old
ids then the new ones, and
``meta['enrolled']`` what was added. An id that already exists is refused unless ``--replace``
(its row is then recomputed in place from the given images). Optimizer state is dropped (its
buffers have the old number of rows): the checkpoint is for inference or a new ``load_from``.
"""
import argparse
import io
import os.path as osp
import sys
from typing import Dict, List, Tuple

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from mmengine.utils import ProgressBar  # noqa: E402

import aliprod_plugins  # noqa: E402,F401  registration and safe checkpoint loading
from aliprod_plugins.apis.features import (iter_paths, load_classifier,  # noqa: E402
                                           train_feature_mean, unit_rows)
from aliprod_plugins.checks import check_int  # noqa: E402
from aliprod_plugins.cli import (add_cfg_options_args, add_device_arg,  # noqa: E402
                                 add_model_args, load_config, run_tool)
from aliprod_plugins.engine import atomic_write_bytes  # noqa: E402

HEAD_KEYS = ('head.fc.weight', 'head.fc.bias')


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Append new classes to a classifier')
    add_model_args(parser, config_help='config file path (the checkpoint\'s)')
    parser.add_argument('--images', required=True, help='list file of "path class_id" lines')
    parser.add_argument('--out', required=True, help='grown checkpoint to write')
    parser.add_argument('--replace', action='store_true',
                        help='recompute the rows of ids that already exist (default: refuse)')
    parser.add_argument('--no-center', action='store_true',
                        help='plain NCM rows: no centring by the training mean (default: off)')
    parser.add_argument('--center-images', type=int, default=20000,
                        help='training images for the mean feature (default: 20000)')
    parser.add_argument('--batch-size', type=int, default=32, help='(default: 32)')
    add_device_arg(parser)
    add_cfg_options_args(parser)
    return parser.parse_args(argv)


def read_list(path: str) -> Tuple[List[str], List[str]]:
    """``(image paths, class ids)`` of a ``path class_id`` list file."""
    paths, ids = [], []
    folder = osp.dirname(osp.abspath(path))
    with open(path, encoding='utf-8') as f:
        for line_no, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith('#'):
                continue
            parts = line.rsplit(None, 1)
            if len(parts) != 2:
                raise ValueError(f'{path}, line {line_no}: expected "<image path> <class_id>", '
                                 f'got {line!r}')
            paths.append(parts[0] if osp.isabs(parts[0]) else osp.join(folder, parts[0]))
            ids.append(parts[1])
    if not paths:
        raise ValueError(f'{path} lists no image: expected "<image path> <class_id>" lines')
    return paths, ids


def grow_head(state: Dict[str, torch.Tensor], classes: List[str], directions: torch.Tensor,
              new_ids: List[str], center: torch.Tensor = None
              ) -> Tuple[Dict[str, torch.Tensor], List[str]]:
    """Append (or, for ids in ``classes``, replace) one row per id of ``new_ids``.

    Args:
        state (dict): The checkpoint's state dict (not modified).
        classes (list): Its class ids, one per head row.
        directions (torch.Tensor): ``(len(new_ids), D)`` unit mean directions.
        new_ids (list): The ids, in the order of ``directions``.
        center (torch.Tensor, optional): ``(D,)`` the mean feature the directions were
            centred by: the new biases are ``mean(b) - row . center``. Defaults to None.

    Returns:
        tuple: ``(new state dict, new class ids)``.
    """
    weight = state['head.fc.weight']
    if weight.size(0) != len(classes):
        raise ValueError(f'the checkpoint has {weight.size(0)} head rows but '
                         f'{len(classes)} class ids in meta.dataset_meta.classes')
    others = [k for k, v in state.items() if k not in HEAD_KEYS and k.startswith('head.')
              and v.dim() and v.size(0) == len(classes)]
    if others:
        raise ValueError(f'enroll_classes.py can grow head.fc only; the checkpoint also has '
                         f'per-class head tensors {others}')
    rows = directions.to(weight.dtype) * torch.linalg.vector_norm(weight, dim=1).mean()
    bias = state.get('head.fc.bias')
    index = {c: i for i, c in enumerate(classes)}
    appended = [c for c in new_ids if c not in index]
    out = dict(state)
    new_w = torch.cat([weight, weight.new_zeros(len(appended), weight.size(1))])
    new_b = None if bias is None else torch.cat([bias, bias.new_full((len(appended), ),
                                                                     float(bias.mean()))])
    all_ids = list(classes) + appended
    position = {c: i for i, c in enumerate(all_ids)}
    shift = torch.zeros(len(new_ids)) if center is None else rows.float() @ center.float()
    for row, cid, offset in zip(rows, new_ids, shift):
        new_w[position[cid]] = row
        if new_b is not None:
            new_b[position[cid]] = float(bias.mean()) - float(offset)
    out['head.fc.weight'] = new_w
    if new_b is not None:
        out['head.fc.bias'] = new_b
    return out, all_ids


def main() -> None:
    args = parse_args()
    for name in ('batch_size', 'center_images'):
        check_int(f'--{name.replace("_", "-")}', getattr(args, name), low=1)
    cfg = load_config(args)  # options checked, data settings spread
    paths, ids = read_list(args.images)
    model, ckpt = load_classifier(cfg, args.checkpoint, args.device)
    meta = dict(ckpt.get('meta') or {})
    classes = list((meta.get('dataset_meta') or {}).get('classes') or ())
    if not classes:
        raise ValueError(f'{args.checkpoint} holds no class ids: expected '
                         "meta['dataset_meta']['classes'] as saved by tools/train.py")
    new_ids = list(dict.fromkeys(ids))
    existing = [c for c in new_ids if c in set(classes)]
    if existing and not args.replace:
        raise ValueError(f'{args.images}: {len(existing)} class id(s) already in the checkpoint '
                         f'({existing[:5]}{"..." if len(existing) > 5 else ""}); pass --replace '
                         'to recompute their rows')
    slot = {c: i for i, c in enumerate(new_ids)}
    labels = torch.tensor([slot[c] for c in ids], device=args.device)
    center = None
    if not args.no_center:
        if meta.get('feature_mean') is not None:
            center = torch.tensor(meta['feature_mean'], dtype=torch.float32)
        else:
            center, used = train_feature_mean(model, cfg, args.center_images)
            print(f'mean feature of {used} training images')
            meta['feature_mean'] = center.cpu().tolist()
        center = center.to(args.device)
    sums = torch.zeros(len(new_ids), model.head.fc.in_features, device=args.device)
    bar = ProgressBar(len(paths))
    for indices, feats in iter_paths(model, cfg, paths, args.batch_size):
        # centred: the raw mean minus mu; plain NCM: the mean of normalised features
        sums.index_add_(0, labels[indices], F.normalize(feats.float(), dim=1) if center is None
                        else feats.float() - center)
        bar.update(len(indices))
    state, all_ids = grow_head(dict(ckpt.get('state_dict', ckpt)), classes,
                               unit_rows(sums).cpu(), new_ids,
                               None if center is None else center.cpu())
    meta['dataset_meta'] = dict(meta.get('dataset_meta') or {}, classes=tuple(all_ids))
    meta['enrolled'] = list(meta.get('enrolled') or []) + [
        dict(class_id=c, images=ids.count(c), replaced=c in set(existing)) for c in new_ids]
    buffer = io.BytesIO()
    torch.save({'meta': meta, 'state_dict': state}, buffer)
    atomic_write_bytes(args.out, buffer.getvalue())  # read by later runs: never half a file
    print(f'\nwritten {args.out}: {len(classes)} -> {len(all_ids)} classes '
          f'({len(new_ids) - len(existing)} appended, {len(existing)} replaced) from '
          f'{len(paths)} images; skipped 0. Use it with --cfg-options '
          f'model.head.num_classes={len(all_ids)}')


if __name__ == '__main__':
    run_tool(main)
