"""Using a trained model.

- :mod:`.mmpretrain_compat`: MMPretrain's inferencer reads paths with our loader, and
  ``inference_model`` accepts a model built from a config file;
- :mod:`.predictor`: ``Predictor`` / ``ImagePathDataset``, batched prediction in input order;
- :mod:`.inputs`: ``collect_images`` (files, folders, list files), ``IMG_EXTENSIONS``;
- :mod:`.tta`: ``apply_tta`` / ``tta_settings``, the config's flip TTA;
- :mod:`.data_settings`: ``--data-root`` / ``--num-classes`` applied to a config;
- :mod:`.features`: head-input features of a split (``tools/extract_features.py``,
  ``build_ncm.py``, ``enroll_classes.py``).
"""
from . import mmpretrain_compat  # noqa: F401  (inferencer reads paths with our loader)
from . import data_settings
from .inputs import IMG_EXTENSIONS, collect_images
from .predictor import ImagePathDataset, Predictor
from .tta import apply_tta, tta_settings

__all__ = [
    'IMG_EXTENSIONS', 'ImagePathDataset', 'Predictor', 'apply_tta', 'collect_images',
    'data_settings', 'tta_settings'
]
