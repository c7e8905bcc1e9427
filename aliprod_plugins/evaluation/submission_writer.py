"""Write the challenge submission file (``id,predicted``) from a test run's predictions."""
import os
import os.path as osp
from typing import Any, Dict, Optional, Sequence

import numpy as np
from mmengine.logging import MMLogger
from mmpretrain.registry import METRICS

from .compact_metric import CompactMetric
from .long_tail_accuracy import predicted_topk

ID_STYLES = ('auto', 'name', 'relpath')


@METRICS.register_module()
class SubmissionWriter(CompactMetric):
    """Collect each image's top-1 class and write ``id,predicted`` on rank 0.

    ``id`` is the image file name (the basename of ``img_path`` in the data sample's metainfo),
    as the AliProducts challenge expects; ``predicted`` the integer class id: the dataset's
    class name when the names are digit strings (AliProducts ``'00042'`` -> 42), otherwise the
    label index. Rows follow the dataset order. Ties go to the lower class index, as in
    ``LongTailAccuracy``. ``tools/test.py --submission FILE.csv`` adds this metric; it needs no
    labels.

    File names are not unique in every test split: a list file may name ``a/1.jpg`` and
    ``b/1.jpg``. ``id_style`` decides what happens then:

    - ``'auto'`` (default): file names while they are unique; otherwise every id is the
      image's path relative to the folder all images share (``a/1.jpg``, ``b/1.jpg``), and a
      warning says so, with the number of shared names and an example;
    - ``'name'``: file names always; shared names raise a ``ValueError`` naming them;
    - ``'relpath'``: paths relative to the shared folder always.

    Args:
        out_file (str): The CSV file to write.
        id_style (str): ``'auto'``, ``'name'`` or ``'relpath'``. Defaults to ``'auto'``.
        collect_device (str): ``'cpu'`` or ``'gpu'``. Defaults to ``'cpu'``.
        prefix (str, optional): Metric name prefix. Defaults to ``'submission'``.
        collect_dir (str, optional): Shared folder for ``collect_device='cpu'``.
    """
    default_prefix: Optional[str] = 'submission'

    def __init__(self, out_file: str, id_style: str = 'auto', collect_device: str = 'cpu',
                 prefix: Optional[str] = None, collect_dir: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix, collect_dir=collect_dir)
        if not isinstance(out_file, str) or not out_file.endswith('.csv'):
            raise ValueError(f'out_file must be a path ending in .csv, got {out_file!r}')
        if id_style not in ID_STYLES:
            raise ValueError(f'id_style must be one of {ID_STYLES}, got {id_style!r}')
        self.out_file = out_file
        self.id_style = id_style

    def process(self, data_batch: Any, data_samples: Sequence[dict]) -> None:
        """Keep the image path and the top-1 label of each sample."""
        if not data_samples:
            return
        if any('img_path' not in s for s in data_samples):
            raise ValueError('SubmissionWriter needs `img_path` in the data samples: keep it in '
                             "PackInputs' meta_keys")
        paths = np.array([str(s['img_path']) for s in data_samples])
        self.results.append({'path': paths, 'label': predicted_topk(data_samples, 1)[:, 0]})

    def compute_metrics(self, rows: Dict[str, np.ndarray]) -> Dict[str, int]:
        """Write the CSV and report the number of rows written."""
        paths = rows.get('path', np.array([], dtype=str)).astype(str)
        names = self._ids(paths)
        predicted = self._class_ids(rows.get('label', np.zeros(0, dtype=np.int32)))
        lines = np.char.add(np.char.add(names, ','), predicted.astype(str))
        if osp.dirname(self.out_file):
            os.makedirs(osp.dirname(self.out_file), exist_ok=True)
        with open(self.out_file, 'w') as f:
            f.write('id,predicted\n')
            if len(lines):
                f.write('\n'.join(lines.tolist()) + '\n')
        MMLogger.get_current_instance().info(
            f'submission with {len(names)} predictions written to {self.out_file}')
        return {'num_images': int(len(names))}

    def _ids(self, paths: np.ndarray) -> np.ndarray:
        """File names, or paths relative to the shared folder (see ``id_style``)."""
        names = np.array([osp.basename(p) for p in paths.tolist()], dtype=str)
        if self.id_style != 'relpath':
            shared, example = _shared(names, paths)
            if not shared:
                return names
            what = (f'{shared} file name(s) are shared by images in different folders, e.g. '
                    f'{example}')
            if self.id_style == 'name':
                raise ValueError(f'submission ids (file names) must be unique, got {what}; use '
                                 "SubmissionWriter(id_style='relpath') or 'auto' for ids "
                                 'relative to the images\' shared folder')
            MMLogger.get_current_instance().warning(
                f'{what}: every submission id is the image path relative to '
                f'{_common_folder(paths)!r} instead of the file name')
        common = _common_folder(paths)
        return np.array([osp.relpath(p, common) for p in paths.tolist()], dtype=str)

    def _class_ids(self, labels: np.ndarray) -> np.ndarray:
        classes = (self.dataset_meta or {}).get('classes')
        names = np.asarray(classes, dtype=str) if classes else np.zeros(0, dtype=str)
        if names.size and np.char.isdigit(names).all():
            ids = names.astype(np.int64)
            if labels.size and labels.max() >= len(ids):
                raise ValueError(f'predicted label {int(labels.max())} is outside the '
                                 f'{len(ids)} classes of the dataset')
            return ids[labels]
        return labels.astype(np.int64)


def _shared(names: np.ndarray, paths: np.ndarray) -> tuple:
    """Number of file names that belong to more than one distinct path, and an example.

    One path listed twice is not a clash (its two rows get the same id and prediction).
    """
    pairs = np.unique(np.stack([names, paths]), axis=1)  # distinct (name, path), by name
    unique, per_name = np.unique(pairs[0], return_counts=True)
    clashing = unique[per_name > 1]
    if not clashing.size:
        return 0, ''
    example = ', '.join(repr(p) for p in pairs[1][pairs[0] == clashing[0]][:2].tolist())
    return int(clashing.size), f'{str(clashing[0])!r}: {example}'


def _common_folder(paths: np.ndarray) -> str:
    if not len(paths):
        return ''
    return osp.commonpath([osp.dirname(p) or '.' for p in np.unique(paths).tolist()])
