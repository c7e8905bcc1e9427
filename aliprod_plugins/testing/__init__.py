"""Small generated data and models for tests, tools and examples (never downloaded).

- ``synthetic``: a tiny AliProducts-layout root of solid-colour images;
- ``photo``: photo-like images (gradient, sharp edges, noise) from a seed;
- ``tiny_model``: the tests' tiny classifier, its config lines, a checkpoint with known scores;
- ``tiny_checkpoint``: the demo config on a generated root and an untrained checkpoint;
- ``host_syncs``: counting the host reads of tensor values that would stall a GPU.
"""
from .synthetic import make_aliproducts_root, write_image

__all__ = ['make_aliproducts_root', 'write_image']
