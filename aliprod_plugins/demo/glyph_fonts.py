"""Which glyphs make Glyphs-LT's classes: matplotlib's fonts, verified coverage, distinct shapes.

A font file "covers" a code point only when (a) its cmap maps it, (b) the glyph has ink and
(c), for files outside the DejaVu family, its normalised rendering is among the ``MAX_RANK``
nearest, of all candidates, to that code point's DejaVu renderings. (c) matters: the Computer
Modern files matplotlib ships use TeX encodings behind an ASCII / Latin-1 cmap ('{' draws an
en dash in cmr10, Latin-1 draws Greek capitals), which would otherwise be label noise. Classes
are then picked greedily, best covered first, skipping any glyph that has the same shape as one
already chosen in any reference font (:func:`.glyph_distinct.same_shape`), so lookalikes
(Latin A / Greek Alpha / Cyrillic A, 'l' / 'I', 'V' / 'v') yield one class, never two.
"""
import os
import os.path as osp
import unicodedata
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from .glyph_distinct import greedy_distinct, pairwise_rms
from .glyph_render import load_font, thumbnail

# A fallback font: every code point draws the same "missing glyph" box, so it covers nothing.
EXCLUDED_FONTS = ('LastResortHE-Regular.ttf', )
# Font files held out of training; validation images come from these only. One per family
# and style so that validation asks for generalisation to a design never trained on.
VAL_FONTS = ('DejaVuSans-BoldOblique.ttf', 'DejaVuSansMono-Bold.ttf', 'DejaVuSerif-Italic.ttf',
             'STIXGeneralBol.ttf')
# Renderings compared for distinctness: a pair of classes must differ in each of these.
REFERENCE_FONTS = ('DejaVuSans.ttf', 'DejaVuSerif.ttf', 'STIXGeneral.ttf')
# Font files whose cmaps are trusted (Unicode-encoded, one design in 12 styles); any other
# file's glyph counts only if its code point is among the MAX_RANK nearest in TRUSTED_STYLES.
TRUSTED_FAMILY = 'DejaVu'
TRUSTED_STYLES = ('DejaVuSans.ttf', 'DejaVuSans-Oblique.ttf', 'DejaVuSerif.ttf')
MAX_RANK = 10
THUMB = 16  # side of the thumbnails compared (normalised RMS distance over THUMB x THUMB)
THUMB_PX = 32  # font size the thumbnails are drawn at


def font_dir() -> str:
    """matplotlib's bundled TrueType folder (``<data path>/fonts/ttf``)."""
    import matplotlib
    return osp.join(matplotlib.get_data_path(), 'fonts', 'ttf')


def list_fonts(folder: Optional[str] = None) -> List[str]:
    """Sorted font file names in ``folder`` (default :func:`font_dir`) minus the excluded."""
    folder = folder or font_dir()
    names = sorted(n for n in os.listdir(folder)
                   if n.lower().endswith('.ttf') and n not in EXCLUDED_FONTS)
    missing = [n for n in VAL_FONTS + REFERENCE_FONTS + TRUSTED_STYLES if n not in names]
    if missing:
        raise FileNotFoundError(f'{folder} lacks {missing}; expected matplotlib\'s bundled fonts')
    return names


def is_candidate(cp: int) -> bool:
    """Letters, numbers, punctuation and symbols; not marks, spaces, controls or private use."""
    return unicodedata.category(chr(cp))[0] in 'LNPS'


def _cmap(path: str) -> set:
    from fontTools.ttLib import TTFont
    with TTFont(path, lazy=True) as font:
        return set((font.getBestCmap() or {}).keys())


def font_thumbnails(job: Tuple[str, Sequence[int], bool]) -> Tuple[np.ndarray, np.ndarray]:
    """Render ``job = (font path, code points, thumbnails?)``.

    Returns:
        tuple: ``has_ink`` (N,) bool and thumbnails (N, THUMB * THUMB) in [0, 1] float32
        (NaN where blank; all NaN when thumbnails were not asked for: an ink check only).
    """
    path, cps, want = job
    ink = np.zeros(len(cps), dtype=bool)
    out = np.full((len(cps), THUMB * THUMB), np.nan, dtype=np.float32)
    font = load_font(path, THUMB_PX)
    for i, cp in enumerate(cps):
        if not want:
            _, top, _, bottom = font.getbbox(chr(cp))
            ink[i] = bottom > top
            continue
        t = thumbnail(path, chr(cp), THUMB, THUMB_PX)
        if t is not None:
            ink[i], out[i] = True, t.ravel()
    return ink, out


_COVERAGE_CACHE: Dict[Tuple[str, int], tuple] = {}
_DISTINCT_CACHE: Dict[tuple, np.ndarray] = {}


def verified_coverage(folder: str, min_train_fonts: int, pool=None) -> tuple:
    """Find the candidates and which font files truly cover them (cached per process).

    Args:
        folder (str): Font folder.
        min_train_fonts (int): Candidates need this many training fonts in their cmaps.
        pool (multiprocessing.pool.Pool, optional): Renders the fonts in parallel.

    Returns:
        tuple: ``(code_points (N,), covers (N, F) bool, font names (F,),
        thumbs (R, N, P) float32 of REFERENCE_FONTS, NaN where a reference lacks the glyph)``.
    """
    key = (folder, min_train_fonts)
    if key in _COVERAGE_CACHE:
        return _COVERAGE_CACHE[key]
    names = list_fonts(folder)
    cmaps = [_cmap(osp.join(folder, n)) for n in names]
    is_val = np.array([n in VAL_FONTS for n in names])
    ref = cmaps[names.index(REFERENCE_FONTS[0])]
    cps = np.array(sorted(cp for cp in ref if is_candidate(cp)), dtype=np.int64)
    in_cmap = np.array([[cp in cm for cm in cmaps] for cp in cps.tolist()])
    keep = (in_cmap[:, ~is_val].sum(1) >= min_train_fonts) & in_cmap[:, is_val].any(1)
    cps, in_cmap = cps[keep], in_cmap[keep]

    # trusted files need only an ink check, except the styles that others are checked against
    trusted = [n.startswith(TRUSTED_FAMILY) for n in names]
    want = [not t or n in TRUSTED_STYLES + REFERENCE_FONTS for n, t in zip(names, trusted)]
    jobs = [(osp.join(folder, n), cps[in_cmap[:, f]].tolist(), want[f])
            for f, n in enumerate(names)]
    rendered = pool.map(font_thumbnails, jobs) if pool else list(map(font_thumbnails, jobs))
    thumbs = np.full((len(names), len(cps), THUMB * THUMB), np.nan, dtype=np.float32)
    covers = np.zeros((len(cps), len(names)), dtype=bool)
    for f, (ink, part) in enumerate(rendered):
        covers[in_cmap[:, f], f] = ink
        thumbs[f, in_cmap[:, f]] = part
    styles = thumbs[[names.index(n) for n in TRUSTED_STYLES]]
    for f in range(len(names)):
        if not trusted[f]:
            covers[:, f] &= _agrees_with(thumbs[f], styles)
    refs = np.stack([thumbs[names.index(n)] for n in REFERENCE_FONTS])
    _COVERAGE_CACHE[key] = cps, covers, tuple(names), refs
    return _COVERAGE_CACHE[key]


def _agrees_with(font: np.ndarray, trusted: np.ndarray) -> np.ndarray:
    """Whether each glyph of ``font`` (N, P) looks like the trusted family's same code point.

    The distance to a code point is the smallest over the trusted styles (regular, bold,
    oblique, ...); the glyph agrees when its own code point is among the MAX_RANK nearest.
    """
    rows = np.flatnonzero(~np.isnan(font[:, 0]))
    dist = np.full((len(rows), font.shape[0]), np.inf, dtype=np.float32)
    for style in trusted:
        have = np.flatnonzero(~np.isnan(style[:, 0]))
        dist[:, have] = np.minimum(dist[:, have], pairwise_rms(font[rows], style[have]))
    own = dist[np.arange(len(rows)), rows]
    ok = np.zeros(font.shape[0], dtype=bool)
    ok[rows] = (dist < own[:, None] - 1e-6).sum(1) < MAX_RANK
    return ok


def select_glyphs(num_classes: int, min_distance: float = 0.10, min_far_ink: float = 0.02,
                  min_train_fonts: int = 8,
                  folder: Optional[str] = None,
                  candidates: Optional[Sequence[int]] = None, pool=None) -> Dict[str, object]:
    """Pick ``num_classes`` visibly distinct, well-covered glyphs.

    Args:
        num_classes (int): Number of classes wanted.
        min_distance (float): Smallest RMS thumbnail distance (pixel values in [0, 1]) between
            two classes, in every reference font that has both. Defaults to 0.10.
        min_far_ink (float): Smallest share of ink off the other glyph's strokes between two
            classes (:func:`same_shape`), in every reference font. Defaults to 0.02.
        min_train_fonts (int): Training font files that must cover each class. Defaults to 8.
        folder (str, optional): Font folder. Defaults to matplotlib's.
        candidates (Sequence[int], optional): Consider only these code points, in this order
            of preference. Defaults to None (all, best covered first).
        pool (multiprocessing.pool.Pool, optional): Renders the fonts in parallel.

    Returns:
        dict: ``code_points`` (C,) int64 ascending, ``train_fonts`` / ``val_fonts`` (lists of
        file names), ``font_paths`` (dict name -> path), ``covers`` (C, F) bool over
        ``fonts`` (all names), ``available`` (how many distinct glyphs qualified).
    """
    folder = folder or font_dir()
    cps, covers, names, refs = verified_coverage(folder, min_train_fonts, pool)
    is_val = np.array([n in VAL_FONTS for n in names])
    ok = (covers[:, ~is_val].sum(1) >= min_train_fonts) & covers[:, is_val].any(1)
    ok &= covers[:, names.index(REFERENCE_FONTS[0])]
    if candidates is None:
        order = np.flatnonzero(ok)
        order = order[np.argsort(-covers[order].sum(1), kind='stable')]
    else:
        pos = {cp: i for i, cp in enumerate(cps.tolist())}
        order = np.array([pos[cp] for cp in candidates if cp in pos and ok[pos[cp]]], np.int64)
    key = (folder, min_train_fonts, min_distance, min_far_ink, tuple(order.tolist()))
    if key not in _DISTINCT_CACHE:
        _DISTINCT_CACHE[key] = greedy_distinct(refs[:, order], min_distance, min_far_ink)
    chosen = _DISTINCT_CACHE[key]
    picked = order[chosen]
    if len(picked) < num_classes:
        raise ValueError(f'classes must be <= {len(picked)} (distinct glyphs covered by '
                         f'>= {min_train_fonts} training fonts), got {num_classes}')
    picked = np.sort(picked[:num_classes])
    return dict(code_points=cps[picked], covers=covers[picked], fonts=list(names),
                train_fonts=[n for n in names if n not in VAL_FONTS],
                val_fonts=[n for n in names if n in VAL_FONTS],
                font_paths={n: osp.join(folder, n) for n in names}, available=len(chosen))
