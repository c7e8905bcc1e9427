"""Write Glyphs-LT: long-tailed glyph classes from matplotlib's fonts, in the AliProducts layout.

    python tools/make_glyphs_lt.py data/glyphs_lt                    # 1,000 classes, 100 -> 1
    python tools/make_glyphs_lt.py data/glyphs_lt --classes 200 --imbalance 50 --seed 1
"""
import argparse
import os.path as osp
import sys
import time

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from aliprod_plugins.cli import run_tool  # noqa: E402
from aliprod_plugins.demo import build_glyphs_lt  # noqa: E402


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Build the Glyphs-LT dataset')
    parser.add_argument('out', help='output folder (AliProducts layout)')
    group = parser.add_argument_group('classes and sizes')
    group.add_argument('--classes', type=int, default=1000,
                       help='number of glyph classes (default: 1000)')
    group.add_argument('--imbalance', type=float, default=100.0,
                       help='largest / smallest training class (default: 100)')
    group.add_argument('--max', type=int, default=100, dest='max_per_class',
                       help='training images of the largest class (default: 100)')
    group.add_argument('--val-per-class', type=int, default=10,
                       help='validation images per class, from held-out fonts (default: 10)')
    group = parser.add_argument_group('images and run')
    group.add_argument('--size', type=int, default=32, help='image side in pixels (default: 32)')
    group.add_argument('--seed', type=int, default=0,
                       help='seed of the head order and the images (default: 0)')
    group.add_argument('--workers', type=int, default=None,
                       help='processes (default: all CPUs); the output does not depend on it')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    start = time.perf_counter()
    info = build_glyphs_lt(args.out, args.classes, args.imbalance, args.max_per_class,
                           args.val_per_class, args.size, args.seed, args.workers)
    train, val = info['train'], info['val']
    print(f'Glyphs-LT written to {args.out}: {len(train)} classes (of {info["available"]} '
          f'distinct glyphs), train {sum(train):,} images ({max(train)} -> {min(train)} per '
          f'class, {len(info["train_fonts"])} font files), val {sum(val):,} images '
          f'({len(info["val_fonts"])} held-out font files), skipped 0, '
          f'{time.perf_counter() - start:.1f} s')


if __name__ == '__main__':
    run_tool(main)
