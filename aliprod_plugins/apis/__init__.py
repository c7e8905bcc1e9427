"""Using a trained model: MMPretrain's inference API on our configs, batched prediction, TTA."""
from . import mmpretrain_compat  # noqa: F401  (inferencer reads paths with our loader)
from . import data_settings
from .inputs import IMG_EXTENSIONS, collect_images
from .predictor import ImagePathDataset, Predictor
from .tta import apply_tta, tta_settings

__all__ = [
    'IMG_EXTENSIONS', 'ImagePathDataset', 'Predictor', 'apply_tta', 'collect_images',
    'data_settings', 'tta_settings'
]
