"""Small generated data for tests, tools and examples (never downloaded)."""
from .synthetic import make_aliproducts_root, write_image

__all__ = ['make_aliproducts_root', 'write_image']
