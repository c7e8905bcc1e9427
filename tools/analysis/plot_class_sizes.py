"""Plot the training class-size distribution before and after capping, sorted, on log scale.

    python tools/analysis/plot_class_sizes.py configs/aliprod/resnest50_stage1.py --out sizes.png
    python tools/analysis/plot_class_sizes.py data/aliproducts/train.json --max-per-class 1000
    python tools/analysis/plot_class_sizes.py results/stage1_per_class.csv

SOURCE is a config (its ``train_dataloader.dataset`` is built without pipeline, and its
``class_counts_before_cap`` / ``class_counts`` are plotted), an AliProducts annotation file
(``train.json``; ``--max-per-class`` draws the capped profile ``min(n, cap)``), or a per-class
CSV written by ``tools/test.py --out`` (its ``train_count`` column). Writes the PNG (creating
its folder) and, beside it, ``<name>.json`` with the drawn profiles (class sizes, largest first)
and their totals.
"""
import argparse
import json
import os
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

import matplotlib  # noqa: E402

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from aliprod_plugins.checks import check_int  # noqa: E402
from aliprod_plugins.cli import add_shot_args, run_tool  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Plot the class-size distribution')
    parser.add_argument('source', help='config (.py), annotation file (.json) or per-class CSV')
    parser.add_argument('--out', default='class_sizes.png',
                        help='output PNG; the drawn profiles go to the same name .json '
                        '(default: class_sizes.png)')
    parser.add_argument('--max-per-class', type=int,
                        help='with a .json source: also draw the profile capped at this size')
    add_shot_args(parser, 'draw the')
    parser.add_argument('--cfg-options', nargs='+', default=[],
                        help='with a config source: key=value overrides')
    return parser.parse_args(argv)


def counts_from_ann_file(path: str) -> np.ndarray:
    """Images per class of an AliProducts annotation file (label = int(class_id))."""
    with open(path) as f:
        data = json.load(f)
    images = data.get('images') if isinstance(data, dict) else None
    if not isinstance(images, list):
        raise ValueError(f'{path}: expected {{"images": [{{"class_id": ..., "image_id": ...}}]}}'
                         f', got {type(data).__name__} without an "images" list')
    try:
        ids = np.array([entry['class_id'] for entry in images], dtype=str)
    except (KeyError, TypeError) as err:
        raise ValueError(f'{path}: every entry of "images" needs a "class_id" ({err!r})') from None
    names, counts = np.unique(ids, return_counts=True)
    if not np.char.isdigit(names).all():
        raise ValueError(f'{path}: class ids must be digit strings, got {names[0]!r}')
    labels = names.astype(np.int64)
    return np.bincount(labels, weights=counts, minlength=labels.max() + 1).astype(np.int64)


def counts_from_config(path: str, cfg_options: list) -> dict:
    """``{'before cap': ..., 'after cap': ...}`` from a config's training dataset."""
    from mmengine.config import Config, DictAction
    from mmengine.registry import init_default_scope

    import aliprod_plugins  # noqa: F401  registration
    from aliprod_plugins.cli import apply_cfg_options
    from aliprod_plugins.evaluation import build_train_dataset, counts_from_dataset
    cfg = Config.fromfile(path)
    if cfg_options:
        parser = argparse.ArgumentParser()
        parser.add_argument('opts', nargs='+', action=DictAction)
        apply_cfg_options(cfg, argparse.Namespace(cfg_options=parser.parse_args(cfg_options).opts))
    from aliprod_plugins.apis.data_settings import resolve_data_roots
    resolve_data_roots(cfg)  # relative to the repository, not the current directory
    init_default_scope(cfg.get('default_scope', 'mmpretrain'))
    dataset = build_train_dataset(cfg.get('train_dataloader'))
    if dataset is None:
        raise ValueError(f'{path}: expected a train_dataloader.dataset, got none')
    after = counts_from_dataset(dataset, 'class_counts')
    before = counts_from_dataset(dataset, 'class_counts_before_cap')
    if after is None:
        raise ValueError(f'{path}: the training dataset has no class counts or labels')
    return {'before cap': before, 'after cap': after}


def load_profiles(args: argparse.Namespace) -> dict:
    """Return ``{label: counts}`` for the source."""
    src = args.source
    if not osp.isfile(src):
        raise FileNotFoundError(f'source {src!r} does not exist')
    if src.endswith('.py'):
        return counts_from_config(src, args.cfg_options)
    if src.endswith('.json'):
        counts = counts_from_ann_file(src)
        profiles = {'before cap': counts}
        if args.max_per_class is not None:
            check_int('--max-per-class', args.max_per_class, low=1)
            profiles['after cap'] = np.minimum(counts, args.max_per_class)
        return profiles
    if src.endswith('.csv'):
        from aliprod_plugins.evaluation.reports import read_per_class_csv
        train = read_per_class_csv(src)['train_count']
        if np.isnan(train).all():
            raise ValueError(f'{src}: the train_count column is empty')
        return {'training set': np.nan_to_num(train, nan=0).astype(np.int64)}
    raise ValueError(f'source must be a .py config, a .json annotation file or a .csv, got '
                     f'{src!r}')


def plot(profiles: dict, out: str, many_thr: int, few_thr: int, title: str) -> dict:
    """Draw each profile sorted by size, log y, with the shot thresholds.

    Returns:
        dict: What was drawn: per profile the sizes (largest first) and their totals, and the
        thresholds.
    """
    fig, ax = plt.subplots(figsize=(8, 4.5), dpi=120)
    drawn = {}
    for label, counts in profiles.items():
        if counts is None:
            continue
        sizes = np.sort(counts)[::-1]
        drawn[label] = dict(classes=int(len(sizes)), images=int(sizes.sum()),
                            max=int(sizes[0]), min=int(sizes[-1]), sizes=sizes.tolist())
        ax.plot(np.arange(1, len(sizes) + 1), np.maximum(sizes, 0.5),
                label=f'{label}: {len(sizes):,} classes, {int(sizes.sum()):,} images, '
                f'max {int(sizes[0]):,}, min {int(sizes[-1]):,}')
    for thr, name in ((many_thr, 'many-shot >'), (few_thr, 'few-shot <')):
        ax.axhline(thr, color='grey', linestyle='--', linewidth=0.8)
        ax.annotate(f'{name} {thr}', (1, thr), xytext=(2, 2), textcoords='offset points',
                    fontsize=8, color='grey')
    ax.set_yscale('log')
    ax.set_xlabel('class rank (largest first)')
    ax.set_ylabel('training images per class')
    ax.set_title(title)
    ax.legend(fontsize=8)
    ax.grid(True, which='major', alpha=0.3)
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)
    return dict(title=title, many_shot_thr=many_thr, few_shot_thr=few_thr, profiles=drawn)


def main(argv=None) -> dict:
    args = parse_args(argv)
    profiles = load_profiles(args)
    if osp.dirname(args.out):
        os.makedirs(osp.dirname(args.out), exist_ok=True)
    drawn = plot(profiles, args.out, args.many_shot_thr, args.few_shot_thr,
                 f'class sizes: {osp.basename(args.source)}')
    json_path = osp.splitext(args.out)[0] + '.json'
    with open(json_path, 'w') as f:
        json.dump(drawn, f)
    print(f'written: {args.out} and {json_path} ('
          + '; '.join(f'{k}: {v["classes"]:,} classes, {v["images"]:,} images'
                      for k, v in drawn['profiles'].items()) + ')')
    return drawn


if __name__ == '__main__':
    run_tool(main)
