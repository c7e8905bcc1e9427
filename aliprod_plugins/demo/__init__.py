"""Demo data built on the machine, never downloaded: Digits-LT (the default) and Glyphs-LT.

- ``digits_lt``: ``build_digits_lt``, long-tailed scikit-learn digits in the AliProducts layout
- ``glyphs_lt``: ``build_glyphs_lt``, 1,000 long-tailed classes from matplotlib's fonts
- ``glyph_fonts``: which glyphs of which fonts make Glyphs-LT's classes
- ``glyph_distinct``: when two glyphs count as the same class
- ``glyph_render``: one glyph of one font rendered, plain or augmented
"""
from .digits_lt import build_digits_lt, long_tail_profile
from .glyphs_lt import build_glyphs_lt

__all__ = ['build_digits_lt', 'build_glyphs_lt', 'long_tail_profile']
