"""The Glyphs-LT builder: determinism, distinct classes, held-out fonts, sizes, loading, train."""
import json
import os
import os.path as osp

import numpy as np
import pytest
from conftest import REPO_ROOT, run_tool
from PIL import Image, ImageDraw, ImageFont

from aliprod_plugins.demo import build_glyphs_lt, glyphs_lt
from aliprod_plugins.demo.glyph_fonts import font_dir, select_glyphs

# what the builder promises, written out here rather than read back from it
HELD_OUT = {'DejaVuSans-BoldOblique.ttf', 'DejaVuSansMono-Bold.ttf', 'DejaVuSerif-Italic.ttf',
            'STIXGeneralBol.ttf'}
TINY = dict(classes=12, imbalance=6, max_per_class=6, val_per_class=2, size=16)


def _read_tree(root: str) -> dict:
    files = {}
    for folder, _, names in os.walk(root):
        for name in names:
            with open(osp.join(folder, name), 'rb') as f:
                files[osp.relpath(osp.join(folder, name), root)] = f.read()
    return files


@pytest.fixture(scope='module')
def tiny(tmp_path_factory):
    """The tiny set built twice with seed 0 (one and two workers), once with seed 1."""
    out = {}
    for key, seed, workers in (('w1', 0, 1), ('w2', 0, 2), ('seed1', 1, 1)):
        root = str(tmp_path_factory.mktemp(key))
        out[key] = root, build_glyphs_lt(root, seed=seed, workers=workers, progress=False,
                                         **TINY)
    return out


def test_same_seed_same_bytes_whatever_the_workers(tiny):
    (root1, info1), (root2, _) = tiny['w1'], tiny['w2']
    files1, files2 = _read_tree(root1), _read_tree(root2)
    assert len(files1) == sum(info1['train']) + sum(info1['val']) + 3  # + 3 JSON files
    assert files1 == files2
    # another seed: another head order, other pixels, the same classes
    root3, info3 = tiny['seed1']
    assert info3['code_points'] == info1['code_points']
    assert info3['train'] != info1['train']
    name = json.load(open(osp.join(root3, 'val.json')))['images'][0]
    path = osp.join('val', name['class_id'], name['image_id'])
    assert _read_tree(root3)[path] != files1[path]


def test_size_profile(tiny):
    root, info = tiny['w1']
    c, m, r = TINY['classes'], TINY['max_per_class'], TINY['imbalance']
    expected = [max(1, round(m * r ** (-i / (c - 1)))) for i in range(c)]
    assert expected[0] == 6 and expected[-1] == 1
    assert sorted(info['train'], reverse=True) == expected
    assert info['val'] == [TINY['val_per_class']] * c
    for split in ('train', 'val'):
        entries = json.load(open(osp.join(root, f'{split}.json')))['images']
        per_class = np.bincount([int(e['class_id']) for e in entries], minlength=c)
        assert per_class.tolist() == info[split]
        for k in range(c):
            assert len(os.listdir(osp.join(root, split, f'{k:05d}'))) == per_class[k]
        assert all(len(e['class_id']) == 5 for e in entries)
    img = Image.open(osp.join(root, 'train', '00000', os.listdir(osp.join(root, 'train',
                                                                          '00000'))[0]))
    assert img.format == 'JPEG' and img.size == (16, 16) and img.mode == 'L'


def test_validation_only_from_held_out_fonts(tmp_path, monkeypatch):
    used = {'train': set(), 'val': set()}
    real = glyphs_lt.render_sample

    def spy(path, char, size, rng, mode='train'):
        used[mode].add(osp.basename(path))
        return real(path, char, size, rng, mode=mode)

    monkeypatch.setattr(glyphs_lt, 'render_sample', spy)
    info = build_glyphs_lt(str(tmp_path), seed=0, workers=1, progress=False, **TINY)
    assert used['val'] and used['val'] <= HELD_OUT
    assert used['train'] and not used['train'] & HELD_OUT
    assert len(used['train']) >= 8  # several designs, not one font
    # what is reported is what the builder drew from
    assert used['val'] <= set(info['val_fonts']) and used['train'] <= set(info['train_fonts'])


def test_lookalikes_are_one_class():
    # Latin / Greek / Cyrillic lookalikes, case pairs and superscripts that differ only in
    # size; 'E' and 'F' must stay two classes
    groups = ['AΑА', 'BΒВ', 'HΗН', 'OΟО', 'xх', 'Vv', 'Ss', 'cс', 'pр', '2²', 'E', 'F']
    forced = [ord(ch) for group in groups for ch in group]
    available = select_glyphs(1, candidates=forced)['available']
    kept = {chr(cp) for cp in select_glyphs(available, candidates=forced)['code_points']}
    for group in groups:
        assert len(kept & set(group)) == 1, (group, kept)


def _own_rendering(char: str, font) -> np.ndarray:
    """Independent of the builder: draw, crop to the ink, pad square, 12x12, binarise."""
    canvas = Image.new('L', (160, 160), 0)
    ImageDraw.Draw(canvas).text((80, 80), char, font=font, fill=255, anchor='mm')
    ink = canvas.crop(canvas.getbbox())
    side = max(ink.size)
    square = Image.new('L', (side, side), 0)
    square.paste(ink, ((side - ink.width) // 2, (side - ink.height) // 2))
    return np.asarray(square.resize((12, 12), Image.BOX)) > 96


def test_default_classes_are_pairwise_distinct():
    cps = select_glyphs(1000)['code_points'].tolist()
    assert len(set(cps)) == 1000
    font = ImageFont.truetype(osp.join(font_dir(), 'DejaVuSans.ttf'), 48)
    bits = np.stack([_own_rendering(chr(cp), font).ravel() for cp in cps]).astype(np.float32)
    differ = bits @ (1 - bits).T + (1 - bits) @ bits.T  # pixels that differ, every pair
    np.fill_diagonal(differ, np.inf)
    i, j = np.unravel_index(np.argmin(differ), differ.shape)
    # lookalikes such as Latin A / Greek Alpha render pixel-identical here
    assert differ[i, j] >= 1, f'{chr(cps[i])!r} and {chr(cps[j])!r} render alike'


def test_loads_in_aliproducts_dataset(tiny):
    from aliprod_plugins.datasets import AliProductsDataset
    root, info = tiny['w1']
    for split in ('train', 'val'):
        ds = AliProductsDataset(data_root=root, split=split, num_classes=TINY['classes'],
                                pipeline=[dict(type='LoadImageScaled', min_size=16)])
        assert len(ds) == sum(info[split])
        assert np.bincount(ds.get_gt_labels(), minlength=TINY['classes']).tolist() == \
            info[split]
        assert ds[0]['img'].shape == (16, 16, 3)


def test_bad_options_are_named(tmp_path):
    with pytest.raises(ValueError, match='imbalance expected a number >= 1, got 0.5'):
        build_glyphs_lt(str(tmp_path), imbalance=0.5)
    with pytest.raises(ValueError, match='workers expected an int >= 1 or None, got 0'):
        build_glyphs_lt(str(tmp_path), workers=0)
    with pytest.raises(ValueError, match=r'classes must be <= \d+ \(distinct glyphs'):
        build_glyphs_lt(str(tmp_path), classes=100000, workers=1, progress=False)


def test_tiny_build_trains_through_both_stages(tmp_path):
    data = str(tmp_path / 'glyphs')
    # built in this process: the font analysis is already cached here (tools/make_glyphs_lt.py
    # is a thin wrapper around this call)
    build_glyphs_lt(data, classes=20, imbalance=8, max_per_class=8, val_per_class=2, size=16,
                    workers=1, progress=False)
    opts = ['train_cfg.max_epochs=2', 'train_cfg.val_interval=1',
            'custom_hooks.0.switch_epoch=1',
            'model.head.num_classes=20', 'data_preprocessor.num_classes=20',
            'default_hooks.logger.interval=1', 'train_dataloader.batch_size=16']
    for split in ('train', 'val', 'test'):
        opts += [f'{split}_dataloader.dataset.data_root={data}',
                 f'{split}_dataloader.dataset.num_classes=20',
                 f'{split}_dataloader.num_workers=0',
                 f'{split}_dataloader.persistent_workers=False']
    work = str(tmp_path / 'work')
    proc = run_tool(['python', osp.join(REPO_ROOT, 'tools', 'train.py'),
                     osp.join(REPO_ROOT, 'configs', 'demo', 'glyphs_lt_two_stage.py'),
                     '--work-dir', work, '--cfg-options', *opts])
    out = proc.stdout + proc.stderr
    assert 'switched to stage 2' in out and 'ClassBalancedSampler' in out
    assert 'longtail/few_shot_acc' in out
    assert osp.isfile(osp.join(work, 'epoch_2.pth'))
