"""aliprod_plugins.transforms: fast, robust image loading."""
from .decode import dct_scale, decode_image, sniff_format
from .errors import ImageLoadError
from .fused_crop import RandomResizedCropFlipPack
from .loading import LoadImageScaled

__all__ = ['ImageLoadError', 'LoadImageScaled', 'RandomResizedCropFlipPack', 'dct_scale',
           'decode_image', 'sniff_format']
