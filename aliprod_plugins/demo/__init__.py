"""The embedded default: Digits-LT, built from scikit-learn's bundled digits.

Glyphs-LT (``build_glyphs_lt``): 1,000 long-tailed classes from matplotlib's bundled fonts.
"""
from .digits_lt import build_digits_lt, long_tail_profile
from .glyphs_lt import build_glyphs_lt

__all__ = ['build_digits_lt', 'build_glyphs_lt', 'long_tail_profile']
