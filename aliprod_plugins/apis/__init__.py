"""Using a trained model: MMPretrain's inference API on our configs, batched prediction, TTA.

- ``predictor``: ``Predictor``, batched prediction on image files
- ``inputs``: the image files, folders and lists a tool is given
- ``tta``: a config's test-time augmentation settings
- ``features``: a trained model's classifier input features, per split or per class
- ``data_settings``: ``data_root`` and ``num_classes`` set once for a whole config
- ``mmpretrain_compat``: MMPretrain's ``get_model`` / ``inference_model`` on our configs
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
