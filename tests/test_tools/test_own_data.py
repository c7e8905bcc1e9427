"""The README's "your own data" commands: a list-file folder, one --data-root, one --num-classes."""
import csv
import os
import os.path as osp
import stat
import sys

import numpy as np
from conftest import REPO_ROOT, run_tool
from PIL import Image

DEMO = osp.join(REPO_ROOT, 'configs', 'demo', 'digits_lt_stage1.py')
TRAIN, VAL = [6, 4, 2], [2, 3, 1]  # images per class of the folder below


def make_list_folder(root: str) -> None:
    """``root/{train,val}.txt`` with ``images/<split>_<n>.png <label>`` lines (no class folders)."""
    rng = np.random.default_rng(0)
    os.makedirs(osp.join(root, 'images'))
    n = 0
    for split, counts in (('train', TRAIN), ('val', VAL)):
        lines = []
        for label, count in enumerate(counts):
            for _ in range(count):
                name = f'images/{split}_{n}.png'
                Image.fromarray(rng.integers(0, 255, (32, 32, 3), dtype=np.uint8)).save(
                    osp.join(root, name))
                lines.append(f'{name} {label}')
                n += 1
        with open(osp.join(root, f'{split}.txt'), 'w') as f:
            f.write('\n'.join(lines) + '\n')


def test_own_list_folder_trains_tests_and_infers_with_one_setting_each(tmp_path):
    root, work = str(tmp_path / 'mine'), str(tmp_path / 'work')
    make_list_folder(root)
    short = ['--cfg-options', 'train_cfg.max_epochs=1', 'train_dataloader.batch_size=4',
             'train_dataloader.num_workers=0', 'train_dataloader.persistent_workers=False',
             'val_dataloader.num_workers=0', 'val_dataloader.persistent_workers=False']
    run_tool([sys.executable, osp.join(REPO_ROOT, 'tools', 'train.py'), DEMO, '--data-root',
              root, '--num-classes', '3', '--work-dir', work, *short], cwd=str(tmp_path))
    # the config dumped in the work dir is all tools/test.py needs: its test loader is ours
    dumped, ckpt = osp.join(work, 'digits_lt_stage1.py'), osp.join(work, 'epoch_1.pth')
    out = tmp_path / 'res' / 'metrics.json'
    run_tool([sys.executable, osp.join(REPO_ROOT, 'tools', 'test.py'), dumped, ckpt,
              '--work-dir', str(tmp_path / 'test'), '--out', str(out)], cwd=str(tmp_path))
    with open(tmp_path / 'res' / 'metrics_per_class.csv') as f:
        rows = list(csv.DictReader(f))
    assert [int(r['train_count']) for r in rows] == TRAIN
    assert [int(r['eval_count']) for r in rows] == VAL
    # tools/infer.py reads the same "path label" list: every image predicted, none missing
    preds = tmp_path / 'preds.csv'
    proc = run_tool([sys.executable, osp.join(REPO_ROOT, 'tools', 'infer.py'), dumped, ckpt,
                     osp.join(root, 'val.txt'), '--out', str(preds), '--num-workers', '0'])
    assert f'{sum(VAL)} images predicted' in proc.stdout and '0 failed' in proc.stdout
    with open(preds) as f:
        rows = list(csv.reader(f))[1:]
    assert [r[0] for r in rows] == [osp.join(root, 'images', f'val_{n}.png')
                                    for n in range(sum(TRAIN), sum(TRAIN) + sum(VAL))]
    assert all(r[-1] == '' and r[1] in ('00000', '00001', '00002') for r in rows)
    os.umask(umask := os.umask(0))
    assert stat.S_IMODE(preds.stat().st_mode) == 0o666 & ~umask
