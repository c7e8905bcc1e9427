"""Close two gaps of MMPretrain 1.2.0's inference API for models built from a config file.

    from mmpretrain import ImageClassificationInferencer, get_model, inference_model
    inferencer = ImageClassificationInferencer('configs/demo/digits_lt_two_stage.py',
                                               pretrained='work_dirs/demo/train/epoch_40.pth')
    inferencer('x.jpg')[0]['pred_class']          # '00007': the catalogue class id
    model = get_model('configs/aliprod/resnest50_stage1.py', pretrained='epoch_40.pth')
    inference_model(model, bgr_array)

1. ``ImageClassificationInferencer.preprocess`` decodes a file path with ``mmcv.imread`` and
   hands the pipeline ``img`` without ``img_path``. Our test pipelines start with
   ``LoadImageScaled``, which decodes JPEGs at a DCT-reduced size and handles modes and EXIF its
   own way, so a full ``cv2`` decode would give slightly different pixels than
   ``tools/test.py``. When the pipeline starts with ``LoadImageScaled``, paths are passed to it
   as ``img_path`` instead (the preprocessing is then exactly that of ``tools/test.py``);
   arrays still go in as ``img`` (BGR, as MMPretrain documents), which ``LoadImageScaled``
   takes as decoded. Pipelines of other loaders keep MMPretrain's behaviour.
2. ``inference_model(model, ...)`` picks the inferencer from ``model._metainfo``, which
   ``get_model`` sets only for model-zoo names (``None`` for a config file), so every model built
   from a config raised ``NotImplementedError('No available inferencer for the model')``. An
   ``ImageClassifier`` without model-zoo metainfo now reports the image-classification task.

Both are installed when ``aliprod_plugins`` is imported, which every config here does through
``custom_imports`` while ``get_model`` reads it.
"""
from pathlib import Path
from typing import Iterator, List

import numpy as np
from mmengine.dataset import Compose, default_collate
from mmpretrain.apis.image_classification import ImageClassificationInferencer
from mmpretrain.models import ImageClassifier
from modelindex.models.Model import Model
from modelindex.models.Result import Result

from ..transforms import LoadImageScaled

_STOCK_PREPROCESS = ImageClassificationInferencer.preprocess
_TASK = 'Image Classification'


def loads_paths(pipeline: Compose) -> bool:
    """Whether ``pipeline`` starts with a loader that reads ``img_path`` itself."""
    transforms = getattr(pipeline, 'transforms', None) or []
    return bool(transforms) and isinstance(transforms[0], LoadImageScaled)


def to_results(input_) -> dict:
    """Pipeline input for one inferencer input: a path as ``img_path``, an array as ``img``.

    Args:
        input_ (str | Path | np.ndarray): An image file, or a decoded BGR / grayscale image.

    Returns:
        dict: ``{'img_path': str}`` or ``{'img': array}``.
    """
    if isinstance(input_, (str, Path)):
        return dict(img_path=str(input_))
    if isinstance(input_, np.ndarray):
        return dict(img=input_)
    raise TypeError(f'expected an image path or a BGR numpy array, got {type(input_).__name__}')


def _preprocess(self: ImageClassificationInferencer, inputs: List, batch_size: int = 1
                ) -> Iterator[dict]:
    """``ImageClassificationInferencer.preprocess`` that lets our loader read file paths."""
    if not loads_paths(self.pipeline):
        yield from _STOCK_PREPROCESS(self, inputs, batch_size=batch_size)
        return
    pipeline = Compose([to_results, self.pipeline])
    chunked_data = self._get_chunk_data(map(pipeline, inputs), batch_size)
    yield from map(default_collate, chunked_data)


def _classification_metainfo() -> Model:
    return Model(name='aliprod-config-model',
                 results=[Result(task=_TASK, dataset='config', metrics={})])


def _get_metainfo(self: ImageClassifier):
    metainfo = self.__dict__.get('_aliprod_metainfo')
    return metainfo if metainfo is not None else _classification_metainfo()


def _set_metainfo(self: ImageClassifier, value) -> None:
    self.__dict__['_aliprod_metainfo'] = value


def install() -> None:
    """Install both fixes (idempotent)."""
    ImageClassificationInferencer.preprocess = _preprocess
    if not isinstance(ImageClassifier.__dict__.get('_metainfo'), property):
        ImageClassifier._metainfo = property(_get_metainfo, _set_metainfo)


install()
