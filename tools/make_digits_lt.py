"""Write the Digits-LT demo dataset in the AliProducts layout.

    python tools/make_digits_lt.py data/digits_lt --imbalance-ratio 40 --seed 0

Writes train / val (labelled) and an unlabelled test split (``test.json`` + ``test/``) for
``tools/test.py CONFIG CKPT --split test --submission submission.csv``.
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from aliprod_plugins.cli import run_tool  # noqa: E402
from aliprod_plugins.demo import build_digits_lt  # noqa: E402


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Build the Digits-LT demo dataset')
    parser.add_argument('root', help='output folder (default layout: AliProducts)')
    parser.add_argument('--imbalance-ratio', type=float, default=40.0,
                        help='largest / smallest training class (default: 40)')
    parser.add_argument('--val-per-class', type=int, default=40,
                        help='balanced validation images per class (default: 40)')
    parser.add_argument('--n-max', type=int, default=130,
                        help='training images of the largest class (default: 130)')
    parser.add_argument('--test-per-class', type=int, default=10,
                        help='unlabelled test images per class, from the images left over '
                        '(default: 10; 0: no test split)')
    parser.add_argument('--seed', type=int, default=0, help='split seed (default: 0)')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    counts = build_digits_lt(args.root, args.imbalance_ratio, args.val_per_class, args.n_max,
                             args.seed, test_per_class=args.test_per_class)
    print(f'Digits-LT written to {args.root}: train {sum(counts["train"])} images '
          f'{counts["train"]}, val {sum(counts["val"])} images, test (unlabelled) '
          f'{sum(counts["test"])} images')


if __name__ == '__main__':
    run_tool(main)
