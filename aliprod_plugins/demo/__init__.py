"""The embedded default: Digits-LT, built from scikit-learn's bundled digits."""
from .digits_lt import build_digits_lt, long_tail_profile

__all__ = ['build_digits_lt', 'long_tail_profile']
