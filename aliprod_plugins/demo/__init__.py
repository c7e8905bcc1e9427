"""The two proxies, generated without a download.

- :mod:`.digits_lt`: ``build_digits_lt`` (Digits-LT, from scikit-learn's bundled digits, the
  demo's data) and ``long_tail_profile``;
- :mod:`.glyphs_lt`: ``build_glyphs_lt`` (Glyphs-LT, 1,000 long-tailed classes from
  matplotlib's bundled fonts), with :mod:`.glyph_fonts` (verified font coverage),
  :mod:`.glyph_distinct` (distinct classes) and :mod:`.glyph_render` (augmented renderings).
"""
from .digits_lt import build_digits_lt, long_tail_profile
from .glyphs_lt import build_glyphs_lt

__all__ = ['build_digits_lt', 'build_glyphs_lt', 'long_tail_profile']
