"""Write the challenge submission file (``id,predicted``) from a test run's predictions."""
import os
import os.path as osp
from typing import Any, Dict, Optional, Sequence

import numpy as np
from mmengine.logging import MMLogger
from mmpretrain.registry import METRICS

from .compact_metric import CompactMetric
from .long_tail_accuracy import predicted_topk


@METRICS.register_module()
class SubmissionWriter(CompactMetric):
    """Collect each image's top-1 class and write ``id,predicted`` on rank 0.

    ``id`` is the image file name (the basename of ``img_path`` in the data sample's metainfo),
    ``predicted`` the integer class id: the dataset's class name when the names are digit
    strings (AliProducts ``'00042'`` -> 42), otherwise the label index. Rows follow the
    dataset order. Ties go to the lower class index, as in ``LongTailAccuracy``.
    ``tools/test.py --submission FILE.csv`` adds this metric; it needs no labels.

    Args:
        out_file (str): The CSV file to write.
        collect_device (str): ``'cpu'`` or ``'gpu'``. Defaults to ``'cpu'``.
        prefix (str, optional): Metric name prefix. Defaults to ``'submission'``.
        collect_dir (str, optional): Shared folder for ``collect_device='cpu'``.
    """
    default_prefix: Optional[str] = 'submission'

    def __init__(self, out_file: str, collect_device: str = 'cpu',
                 prefix: Optional[str] = None, collect_dir: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix, collect_dir=collect_dir)
        if not isinstance(out_file, str) or not out_file.endswith('.csv'):
            raise ValueError(f'out_file must be a path ending in .csv, got {out_file!r}')
        self.out_file = out_file

    def process(self, data_batch: Any, data_samples: Sequence[dict]) -> None:
        """Keep the image file name and the top-1 label of each sample."""
        if not data_samples:
            return
        if any('img_path' not in s for s in data_samples):
            raise ValueError('SubmissionWriter needs `img_path` in the data samples: keep it in '
                             "PackInputs' meta_keys")
        names = np.array([osp.basename(s['img_path']) for s in data_samples])
        self.results.append({'id': names, 'label': predicted_topk(data_samples, 1)[:, 0]})

    def compute_metrics(self, rows: Dict[str, np.ndarray]) -> Dict[str, int]:
        """Write the CSV and report the number of rows written."""
        names = rows.get('id', np.array([], dtype=str))
        predicted = self._class_ids(rows.get('label', np.zeros(0, dtype=np.int32)))
        lines = np.char.add(np.char.add(names.astype(str), ','), predicted.astype(str))
        if osp.dirname(self.out_file):
            os.makedirs(osp.dirname(self.out_file), exist_ok=True)
        with open(self.out_file, 'w') as f:
            f.write('id,predicted\n')
            if len(lines):
                f.write('\n'.join(lines.tolist()) + '\n')
        MMLogger.get_current_instance().info(
            f'submission with {len(names)} predictions written to {self.out_file}')
        return {'num_images': int(len(names))}

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
