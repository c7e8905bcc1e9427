"""When two glyphs are "the same class": thumbnail comparisons, vectorised over all pairs."""
import numpy as np

INK_LEVEL, FAR_PX = 0.4, 1.0  # ink = thumbnail >= INK_LEVEL; "far" = over FAR_PX pixels away


def pairwise_rms(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """RMS pixel distance between every row of ``a`` (N, P) and of ``b`` (M, P): (N, M)."""
    sq = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2.0 * (a @ b.T)
    return np.sqrt(np.maximum(sq, 0.0) / a.shape[1])


def same_shape(thumbs: np.ndarray, min_distance: float, min_far_ink: float) -> np.ndarray:
    """Which pairs of thumbnails (N, P) of one font count as the same shape: (N, N) bool.

    Two tests, either suffices: an RMS pixel distance below ``min_distance``, or less than
    ``min_far_ink`` of either glyph's ink lying more than FAR_PX from the other's ink (the
    same strokes at another weight: 'V' / 'v', 'x' / multiplication sign, '2' / superscript
    two). Both are matrix products over all pairs.
    """
    ink = (thumbs >= INK_LEVEL).astype(np.float32)
    side = int(round(np.sqrt(thumbs.shape[1])))
    yx = np.stack(np.mgrid[:side, :side], -1).reshape(-1, 2).astype(np.float32)
    pix_dist = np.sqrt(((yx[:, None] - yx[None]) ** 2).sum(-1))
    far = np.empty_like(ink)
    for lo in range(0, len(ink), 256):  # distance transform of each glyph, in chunks
        chunk = ink[lo:lo + 256, None, :] > 0
        far[lo:lo + 256] = np.where(chunk, pix_dist[None], np.inf).min(-1) > FAR_PX
    frac = (ink @ far.T) / np.maximum(ink.sum(1), 1)[:, None]  # share of i's ink far from j
    return (pairwise_rms(thumbs, thumbs) < min_distance) | (np.maximum(frac, frac.T) < min_far_ink)


def greedy_distinct(refs: np.ndarray, min_distance: float, min_far_ink: float) -> np.ndarray:
    """Indices (in order) kept by a greedy pass that skips anything too close to a kept one.

    Args:
        refs (np.ndarray): (R, N, P) thumbnails in R reference fonts, NaN where missing.
        min_distance (float): See :func:`same_shape`.
        min_far_ink (float): See :func:`same_shape`.
    """
    n = refs.shape[1]
    close = np.zeros((n, n), dtype=bool)
    for r in refs:
        idx = np.flatnonzero(~np.isnan(r[:, 0]))
        close[np.ix_(idx, idx)] |= same_shape(r[idx], min_distance, min_far_ink)
    blocked = np.zeros(n, dtype=bool)
    kept = []
    for i in range(n):
        if not blocked[i]:
            kept.append(i)
            blocked |= close[i]
    return np.array(kept, dtype=np.int64)
