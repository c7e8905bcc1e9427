"""Build Glyphs-LT: 1,000 long-tailed glyph classes drawn from the fonts matplotlib ships.

A glyph (a Unicode code point) is a class and a font file is a "photo" of it: a change of
appearance made by type designers, not by us. Classes are chosen by :mod:`.glyph_fonts`
(covered by enough font files, visibly distinct across the whole set, lookalikes merged);
training images come from the training fonts with random augmentation, validation images only
from font files held out of training (``VAL_FONTS``), so validation measures generalisation to
unseen designs. Class sizes follow :func:`long_tail_profile` from ``max_per_class`` down to
``max_per_class / imbalance``, the head classes shuffled by ``seed``. Every class has its own
seed, so the output is byte-identical for a seed whatever the number of workers::

    root/
    ├── train.json  val.json   {"images": [{"class_id": "00003",
    │                                        "image_id": "00003_t0007.jpg"}, ...]}
    ├── glyphs.json            the code point, character, name and font files of every class
    ├── train/<class_id>/<image_id>
    └── val/<class_id>/<image_id>

    python tools/make_glyphs_lt.py data/glyphs_lt        # 1,000 classes, 100 -> 1 images
"""
import json
import multiprocessing
import os
import os.path as osp
import unicodedata
from typing import Dict, List, Optional, Tuple

import numpy as np
from PIL import Image

from ..checks import check_int, check_number
from ..engine.atomic_io import atomic_write_text
from .digits_lt import long_tail_profile
from .glyph_fonts import font_dir, select_glyphs
from .glyph_render import render_sample

_Job = Tuple[str, int, int, List[str], List[str], int, int, int, int]


def build_glyphs_lt(out: str, classes: int = 1000, imbalance: float = 100,
                    max_per_class: int = 100, val_per_class: int = 10, size: int = 32,
                    seed: int = 0, workers: Optional[int] = None,
                    progress: bool = True) -> Dict[str, object]:
    """Write Glyphs-LT under ``out`` and return what was written.

    Args:
        out (str): Output folder (created).
        classes (int): Number of classes. Defaults to 1000.
        imbalance (float): Largest / smallest training class, >= 1. Defaults to 100.
        max_per_class (int): Training images of the largest class. Defaults to 100.
        val_per_class (int): Validation images per class, from held-out fonts. Defaults to 10.
        size (int): Side of the written grayscale JPEGs. Defaults to 32.
        seed (int): Seed of the head order and of every image. Defaults to 0.
        workers (int, optional): Processes; 1 renders in this process. Defaults to None
            (``os.cpu_count()``).
        progress (bool): Show a progress bar. Defaults to True.

    Returns:
        dict: ``train`` / ``val`` (images per class), ``code_points`` (per class),
        ``train_fonts`` / ``val_fonts`` (the font files each split draws from: those covering
        a class) and ``available`` (distinct glyphs that qualified).
    """
    _check_args(classes, imbalance, max_per_class, val_per_class, size, seed, workers)
    workers = workers or os.cpu_count() or 1
    pool = multiprocessing.get_context('fork').Pool(workers) if workers > 1 else None
    try:
        sel = select_glyphs(classes, pool=pool)
        rng = np.random.default_rng(seed)
        sizes = np.empty(classes, dtype=np.int64)
        sizes[rng.permutation(classes)] = long_tail_profile(classes, max_per_class, imbalance)
        names, covers = sel['fonts'], sel['covers']
        jobs: List[_Job] = []
        for c, cp in enumerate(sel['code_points'].tolist()):
            fonts = [names[f] for f in np.flatnonzero(covers[c])]
            jobs.append((out, c, cp, [f for f in fonts if f in sel['train_fonts']],
                         [f for f in fonts if f in sel['val_fonts']], int(sizes[c]),
                         val_per_class, size, seed))
        results = _run(jobs, pool, progress)
    finally:
        if pool is not None:
            pool.close()
            pool.join()
    entries = {'train': [], 'val': []}
    for c in range(classes):  # results arrive in any order; the annotation is by class
        for split in entries:
            entries[split] += [{'class_id': f'{c:05d}', 'image_id': name}
                               for name in results[c][split]]
    for split, items in entries.items():
        atomic_write_text(osp.join(out, f'{split}.json'), json.dumps({'images': items}))
    glyphs = [dict(class_id=f'{c:05d}', code_point=f'U+{job[2]:04X}', char=chr(job[2]),
                   name=unicodedata.name(chr(job[2]), ''), train_fonts=job[3],
                   val_fonts=job[4]) for c, job in enumerate(jobs)]
    # the font files each split draws from (those covering at least one class)
    used = {split: sorted(set().union(*(job[k] for job in jobs)))
            for split, k in (('train_fonts', 3), ('val_fonts', 4))}
    meta = dict(seed=seed, size=size, imbalance=imbalance, max_per_class=max_per_class,
                val_per_class=val_per_class, font_dir=font_dir(), classes=glyphs, **used)
    text = json.dumps(meta, ensure_ascii=False, indent=1)
    atomic_write_text(osp.join(out, 'glyphs.json'), text)
    return dict(train=[len(results[c]['train']) for c in range(classes)],
                val=[len(results[c]['val']) for c in range(classes)],
                code_points=sel['code_points'].tolist(), available=sel['available'], **used)


def render_class(job: _Job) -> Tuple[int, Dict[str, List[str]]]:
    """Render and write one class's images; its randomness depends on (seed, class) only."""
    out, c, cp, train_fonts, val_fonts, n_train, n_val, size, seed = job
    folder = font_dir()
    written = {}
    for split, fonts, n, flag in (('train', train_fonts, n_train, 0),
                                  ('val', val_fonts, n_val, 1)):
        rng = np.random.default_rng([seed, c, flag])
        # each font in turn, in a random order, so small classes still see several designs
        order = [fonts[i] for i in rng.permutation(len(fonts))]
        class_dir = osp.join(out, split, f'{c:05d}')
        os.makedirs(class_dir, exist_ok=True)
        names = []
        for i in range(n):
            pixels = render_sample(osp.join(folder, order[i % len(order)]), chr(cp), size, rng,
                                   mode=split)
            names.append(f'{c:05d}_{split[0]}{i:04d}.jpg')
            Image.fromarray(pixels, mode='L').save(osp.join(class_dir, names[-1]), quality=95)
        written[split] = names
    return c, written


def _run(jobs: List[_Job], pool, progress: bool) -> Dict[int, Dict[str, List[str]]]:
    from ..progress import Progress
    bar = Progress(len(jobs), 'classes') if progress else None
    # large classes first, so the last worker to finish is not left with the head alone
    order = sorted(jobs, key=lambda job: -job[5])
    if pool is not None:
        it = pool.imap_unordered(render_class, order, chunksize=4)
    else:
        it = map(render_class, order)
    results = {}
    for c, written in it:
        results[c] = written
        if bar is not None:
            bar.update()
    if bar is not None:
        bar.close()
    return results


def _check_args(classes, imbalance, max_per_class, val_per_class, size, seed, workers) -> None:
    for name, value, low in (('classes', classes, 1), ('max_per_class', max_per_class, 1),
                             ('val_per_class', val_per_class, 1), ('size', size, 8),
                             ('seed', seed, 0)):
        check_int(name, value, low=low, owner='build_glyphs_lt')
    check_int('workers', workers, low=1, allow_none=True, owner='build_glyphs_lt')
    check_number('imbalance', imbalance, low=1, owner='build_glyphs_lt')
