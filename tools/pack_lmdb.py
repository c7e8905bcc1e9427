"""Pack one split of a config's dataset into LMDB: pre-resized JPEGs keyed by relative path.

    python tools/pack_lmdb.py configs/aliprod/resnest50_stage1.py --split train \\
        --out data/aliproducts/packs/train
    python tools/pack_lmdb.py configs/aliprod/resnest50_stage1.py --split val \\
        --out data/aliproducts/packs/val
    python tools/train.py configs/aliprod/resnest50_stage1_lmdb.py   # reads packs/{train,val}

The split is read exactly as the config builds it (train: after capping, only the kept
images; ``indices`` too). Each image is decoded with our loader (any mode, EXIF applied),
shrunk to a shorter side of ``--short-side`` (never enlarged) and re-encoded as JPEG
``--quality``, in ``--workers`` processes, with a progress bar. The default short side is 10%
above the ``min_size`` of the split's ``LoadImageScaled``, rounded up to a multiple of 8 (176
for the train pipeline's 160, 144 for the test pipeline's 128): the loader then decodes the
packed JPEG at full size, and the smallest random crop (0.08 of the area) is upsampled at most
2.27x, within the 2.5x that ``min_size=160`` allows a file.

A second run into an existing pack completes it (images already written are skipped) when it
was made from the same data with the same settings, reports it complete, or refuses and names
what differs. Bad images are never dropped: they are listed in ``<out>/bad_images.tsv`` and in
the pack's ``aliprod_pack.json``, counted in the summary, and stored empty so that training's
``on_error`` decides. Train with ``lmdb='DIR'`` on the dataset (relative to ``data_root``).
"""
import argparse
import copy
import math
import os
import os.path as osp
import sys
import time

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import lmdb  # noqa: E402
from mmengine.config import Config  # noqa: E402
from mmengine.registry import init_default_scope  # noqa: E402
from mmpretrain.registry import DATASETS  # noqa: E402

import aliprod_plugins  # noqa: E402  registration only
from aliprod_plugins.checks import check_int  # noqa: E402
from aliprod_plugins.cli import (add_cfg_options_args, apply_cfg_options,  # noqa: E402
                                 check_flag, run_tool)
from aliprod_plugins.apis import data_settings  # noqa: E402
from aliprod_plugins.datasets.lmdb_pack import (dataset_record, relative_paths,  # noqa: E402
                                                resolve_pack_dir)
from aliprod_plugins.engine.atomic_io import atomic_write_text  # noqa: E402
from aliprod_plugins.fileio import packing  # noqa: E402
from aliprod_plugins.fileio.pack_meta import (FORMAT, FORMAT_VERSION, differences,  # noqa: E402
                                              read_meta, write_meta)

SPLITS = ('train', 'val', 'test')


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Pack a split into LMDB (resized JPEGs)')
    parser.add_argument('config', help='config whose {split}_dataloader.dataset is packed')
    parser.add_argument('--split', choices=SPLITS, required=True,
                        help='train_dataloader, val_dataloader or test_dataloader; its dataset '
                        'is built with this split')
    parser.add_argument('--out', help='pack folder, created when missing (default: the '
                        'dataset\'s lmdb option, relative to its data_root)')
    parser.add_argument('--short-side', type=int, help='shorter side of the packed images '
                        '(default: ceil(1.1 * min_size / 8) * 8 of the split\'s LoadImageScaled, '
                        '176 for min_size=160)')
    parser.add_argument('--quality', type=int, default=90, help='JPEG quality (default: 90)')
    parser.add_argument('--workers', type=int, default=os.cpu_count() or 1,
                        help='processes decoding and encoding (default: all cores)')
    add_cfg_options_args(parser, 'train_dataloader.dataset.data_root=data/aliproducts')
    args = parser.parse_args(argv)
    if args.short_side is not None:
        check_flag(parser, check_int, '--short-side', args.short_side, low=1)
    check_flag(parser, check_int, '--quality', args.quality, low=1, high=100)
    check_flag(parser, check_int, '--workers', args.workers, low=1)
    return args


def default_short_side(min_size: int) -> int:
    """10% above ``min_size``, rounded up to a multiple of 8 (JPEG's block size)."""
    return int(math.ceil(1.1 * min_size / 8)) * 8


def loader_min_size(pipeline: list) -> int:
    """``min_size`` of the pipeline's ``LoadImageScaled``; SystemExit when there is none."""
    for step in pipeline or []:
        if isinstance(step, dict) and step.get('type') == 'LoadImageScaled' and \
                step.get('min_size'):
            return int(step['min_size'])
    raise SystemExit('pack_lmdb: cannot derive --short-side: the split\'s pipeline has no '
                     'LoadImageScaled with a min_size; pass --short-side')


def build_dataset(cfg: Config, split: str):
    """The split's dataset as the config builds it, reading files (no pack, no pipeline)."""
    ds_cfg = copy.deepcopy(cfg[f'{split}_dataloader']['dataset'])
    ds_cfg.update(split=split, pipeline=[])
    lmdb_opt = ds_cfg.pop('lmdb', None)
    dataset = DATASETS.build(ds_cfg)
    if not hasattr(dataset, '_index'):
        raise SystemExit(f'pack_lmdb: expected an AliProductsDataset, got {type(dataset).__name__}')
    dataset.full_init()
    return dataset, lmdb_opt


def main(argv=None) -> None:
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    apply_cfg_options(cfg, args)
    data_settings.resolve_data_roots(cfg)  # relative to the repository, not the current dir
    init_default_scope(cfg.get('default_scope', 'mmpretrain'))
    dataset, lmdb_opt = build_dataset(cfg, args.split)
    pipeline = cfg[f'{args.split}_dataloader']['dataset'].get('pipeline')
    short_side = args.short_side or default_short_side(loader_min_size(pipeline))
    out = args.out or (lmdb_opt and resolve_pack_dir(lmdb_opt, dataset.data_root))
    if not out:
        raise SystemExit('pack_lmdb: pass --out (the dataset has no lmdb option to default to)')
    record = dataset_record(dataset)
    encoding = dict(short_side=short_side, quality=args.quality, subsampling=packing.SUBSAMPLING)
    os.makedirs(out, exist_ok=True)
    old = read_meta(out)
    if old is None and os.listdir(out):
        raise SystemExit(f'pack_lmdb: {out!r} exists and is not an aliprod pack (no '
                         f'aliprod_pack.json); choose a new or empty folder')
    if old is not None:
        diffs = differences(old['dataset'], record, sorted(record), 'this run') + differences(
            old['encoding'], encoding, sorted(encoding), 'this run')
        if diffs:
            raise SystemExit(f'pack_lmdb: refusing to add to the pack {out!r}, made from other '
                             f'data or settings: ' + '; '.join(diffs) +
                             '. Choose another --out or delete the pack')
        if old.get('complete'):
            print(f'pack_lmdb: {out} is already complete: {record["num_images"]} images '
                  f'({len(old.get("bad_images", {}))} bad); nothing to do')
            return
        print(f'pack_lmdb: completing the interrupted pack {out}')
    meta = dict(format=FORMAT, format_version=FORMAT_VERSION, tool_version=aliprod_plugins.
                __version__, complete=False, dataset=record, encoding=encoding, bad_images={},
                created=time.strftime('%Y-%m-%dT%H:%M:%S%z'))
    write_meta(out, meta)
    keys = relative_paths(dataset._index)
    paths = [osp.join(dataset.img_prefix, key) for key in keys]
    print(f'pack_lmdb: {len(keys)} images of split {args.split!r} ({dataset.ann_file}) -> {out}, '
          f'shorter side {short_side} px, JPEG quality {args.quality}, {args.workers} workers')
    env = lmdb.open(out, map_size=packing.MAP_SIZE, subdir=True, readonly=False)
    try:
        stats = packing.write_images(env, paths, keys, short_side, args.quality, args.workers)
        env.sync(True)
    finally:
        env.close()
    bad = stats['bad']
    atomic_write_text(osp.join(out, 'bad_images.tsv'),
                      ''.join(f'{k}\t{bad[k]}\n' for k in sorted(bad)))
    pack_bytes = os.path.getsize(osp.join(out, 'data.mdb'))
    meta.update(complete=True, bad_images=bad,
                stats=dict(source_bytes_written=stats['source_bytes'], pack_bytes=pack_bytes,
                           seconds=round(stats['seconds'], 1)))
    write_meta(out, meta)
    for key in sorted(bad)[:5]:
        print(f'  bad image {key}: {bad[key]}')
    mib = 1 << 20
    ratio = (f' ({pack_bytes / stats["source_bytes"]:.2f}x the {stats["source_bytes"] / mib:.1f} '
             f'MiB source)' if stats['skipped'] == 0 and stats['source_bytes'] else '')
    print(f'pack_lmdb: {out}: {record["num_images"]} images, {stats["written"]} written, '
          f'{stats["skipped"]} already packed, {len(bad)} bad (stored empty, listed in '
          f'bad_images.tsv); {pack_bytes / mib:.1f} MiB{ratio} in {stats["seconds"]:.1f} s')


if __name__ == '__main__':
    run_tool(main)
