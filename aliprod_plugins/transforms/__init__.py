"""Fast, robust image loading, registered in MMPretrain's ``TRANSFORMS``.

- :mod:`.loading`: ``LoadImageScaled``, a drop-in ``LoadImageFromFile`` decoding JPEGs at a
  DCT-reduced size;
- :mod:`.decode`: ``decode_image``, ``dct_scale``, ``sniff_format`` (any mode to 3-channel
  uint8), with :mod:`.exif` (orientation) and :mod:`.modes` (image modes);
- :mod:`.fused_crop`: ``RandomResizedCropFlipPack``, crop + flip + pack in one step;
- :mod:`.errors`: ``ImageLoadError``, naming the file.
"""
from .decode import dct_scale, decode_image, sniff_format
from .errors import ImageLoadError
from .fused_crop import RandomResizedCropFlipPack
from .loading import LoadImageScaled

__all__ = ['ImageLoadError', 'LoadImageScaled', 'RandomResizedCropFlipPack', 'dct_scale',
           'decode_image', 'sniff_format']
