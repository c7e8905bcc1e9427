"""Small generated data for tests, tools and examples (never downloaded).

- :mod:`.synthetic`: ``make_aliproducts_root`` (an AliProducts-layout folder), ``write_image``;
- :mod:`.tiny_checkpoint`: tiny configs and checkpoints for tool tests;
- :mod:`.host_syncs`: counting host-device syncs per iteration.
"""
from .synthetic import make_aliproducts_root, write_image

__all__ = ['make_aliproducts_root', 'write_image']
