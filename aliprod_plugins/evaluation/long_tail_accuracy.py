"""Top-k, class-averaged and shot-group accuracy with memory bounded by top-k."""
import math
from typing import Any, Dict, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from mmengine.logging import MMLogger
from mmpretrain.registry import METRICS

from ..checks import check_int
from .compact_metric import CompactMetric
from .functional import long_tail_metrics, topk_labels
from .train_counts import CountsLike, load_class_counts

SHOT_KEYS = ('many_shot_acc', 'medium_shot_acc', 'few_shot_acc')

# when scores must be copied, stack at most this many bytes at a time (~20 rows at 50,030)
_CHUNK_BYTES = 4 << 20


@METRICS.register_module()
class LongTailAccuracy(CompactMetric):
    """Accuracy for long-tailed classification at tens of thousands of classes.

    ``process()`` keeps, per sample, only the ``max(topk)`` best classes (int32) and the true
    class, i.e. 24 bytes at top-5, instead of the full score vector MMPretrain's ``Accuracy``
    keeps (200 kB at 50,030 classes). Everything else is one ``np.bincount`` at the end.
    Distributed evaluation gathers these rows from all ranks (see :class:`CompactMetric`).

    Reported, in percent: ``top1``, ``top5`` (every k of ``topk``; top-1 always), ``top1_error``,
    ``mean_class_acc`` and ``mean_class_error`` (averaged over the classes that have samples in
    the evaluated split; the AliProducts challenge score is ``mean_class_error / 100``), and
    ``many_shot_acc``, ``medium_shot_acc``, ``few_shot_acc``: the mean per-class top-1 accuracy
    of the evaluated classes with more than ``many_shot_thr``, ``few_shot_thr`` to
    ``many_shot_thr``, and fewer than ``few_shot_thr`` training images. A group without an
    evaluated class is left out (logged once, e.g. no many-shot class when the head is capped
    at 80), so no log line reads ``many_shot_acc: nan``. Without training counts the three are
    not reported (one warning); see :mod:`aliprod_plugins.evaluation.train_counts` for where
    counts come from.

    Ties between scores go to the lower class index (see
    :func:`aliprod_plugins.evaluation.functional.topk_labels`).

    After each evaluation, rank 0 keeps the per-class arrays in :attr:`per_class`
    (``train_count``, ``eval_count``, ``correct``, ``top1_acc``) for reports.

    Args:
        topk (int | Sequence[int]): The k of the top-k accuracies; a k of at least the number
            of classes counts every sample as a hit. Defaults to ``(1, 5)``.
        class_counts (str | Sequence[int] | np.ndarray, optional): Training images per class,
            or a ``.npy`` file of them. Defaults to None (taken from the training dataset by
            :class:`TrainCountsHook`).
        many_shot_thr (int): Many-shot classes have more training images. Defaults to 100.
        few_shot_thr (int): Few-shot classes have fewer training images. Defaults to 20.
        collect_device (str): ``'cpu'`` or ``'gpu'``. Defaults to ``'cpu'``.
        prefix (str, optional): Metric name prefix. Defaults to ``'longtail'``.
        collect_dir (str, optional): Shared folder for ``collect_device='cpu'``.
    """
    default_prefix: Optional[str] = 'longtail'

    def __init__(self,
                 topk: Union[int, Sequence[int]] = (1, 5),
                 class_counts: Optional[CountsLike] = None,
                 many_shot_thr: int = 100,
                 few_shot_thr: int = 20,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None,
                 collect_dir: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix, collect_dir=collect_dir)
        self.topk = _check_topk(topk)
        for name, value in (('many_shot_thr', many_shot_thr), ('few_shot_thr', few_shot_thr)):
            check_int(name, value, low=0, owner='LongTailAccuracy')
        if few_shot_thr > many_shot_thr:
            raise ValueError(f'few_shot_thr must be <= many_shot_thr ({many_shot_thr}), got '
                             f'{few_shot_thr!r}')
        self.many_shot_thr = many_shot_thr
        self.few_shot_thr = few_shot_thr
        self.class_counts = None if class_counts is None else load_class_counts(class_counts)
        self.counts_source = 'class_counts argument' if class_counts is not None else None
        self.per_class: Optional[Dict[str, np.ndarray]] = None
        self._warned = set()
        self._missing_reason = ('give class_counts=... or add dict(type="TrainCountsHook") '
                                'to custom_hooks')

    def set_train_counts(self, counts: Optional[np.ndarray], source: str) -> None:
        """Use ``counts`` for the shot groups unless ``class_counts`` was given explicitly.

        Args:
            counts (np.ndarray, optional): Training images per class; None when they could
                not be found.
            source (str): Where they come from, or why they are missing, for the log.
        """
        if self.counts_source == 'class_counts argument':
            return
        if counts is None:
            self._missing_reason = source
            return
        self.class_counts = load_class_counts(counts, f'class counts from {source}')
        self.counts_source = source

    def process(self, data_batch: Any, data_samples: Sequence[dict]) -> None:
        """Keep the top-k labels and the true label of each sample of the batch.

        Args:
            data_batch: Unused.
            data_samples (Sequence[dict]): Model outputs with ``pred_score`` (or, for top-1
                only, ``pred_label``) and ``gt_label``.
        """
        if not data_samples:
            return
        kmax = max(self.topk)
        gt = np.empty(len(data_samples), dtype=np.int32)
        for i, sample in enumerate(data_samples):
            gt[i] = _single_label(sample)
        pred = predicted_topk(data_samples, kmax)
        self.results.append({'pred': pred, 'gt': gt})

    def compute_metrics(self, rows: Dict[str, np.ndarray]) -> Dict[str, float]:
        """Compute the metrics from the gathered rows (see :class:`CompactMetric`)."""
        pred = rows.get('pred', np.zeros((0, max(self.topk)), dtype=np.int32))
        gt = rows.get('gt', np.zeros(0, dtype=np.int32))
        counts = self.class_counts
        if counts is None:
            self._warn_once('no_counts', f'LongTailAccuracy has no training class counts '
                            f'({self._missing_reason}): many/medium/few-shot accuracy skipped')
        num_classes = self._num_classes(counts)
        metrics, self.per_class = long_tail_metrics(
            pred, gt, self.topk, num_classes, counts, self.many_shot_thr, self.few_shot_thr)
        empty = [k for k in SHOT_KEYS if k in metrics and math.isnan(metrics[k])]
        if empty:
            self._log_once('empty_groups', f'LongTailAccuracy: {", ".join(empty)} not reported: '
                           f'no evaluated class in the group (many-shot > {self.many_shot_thr}, '
                           f'few-shot < {self.few_shot_thr} training images)')
        return {k: v for k, v in metrics.items() if k not in empty}

    def _num_classes(self, counts: Optional[np.ndarray]) -> Optional[int]:
        classes = self._classes()
        if counts is not None:
            if classes and len(classes) != len(counts):
                raise ValueError(
                    f'training class counts ({self.counts_source}) have {len(counts)} entries '
                    f'but the evaluated dataset has {len(classes)} classes')
            return len(counts)
        return len(classes) or None

    def _classes(self) -> Tuple:
        return tuple((self.dataset_meta or {}).get('classes') or ())

    def _log_once(self, key: str, msg: str) -> None:
        if key not in self._warned:
            self._warned.add(key)
            MMLogger.get_current_instance().info(msg)

    def _warn_once(self, key: str, msg: str) -> None:
        if key not in self._warned:
            self._warned.add(key)
            MMLogger.get_current_instance().warning(msg)


def predicted_topk(data_samples: Sequence[dict], k: int) -> np.ndarray:
    """Return the ``(N, k)`` int32 best classes of a batch of data samples.

    MMPretrain's heads give each sample a row view of one ``(B, C)`` score tensor; that tensor
    is used in place. Other inputs are stacked a few MB at a time, so a batch never costs more
    than that on top of the model's own output.
    """
    if 'pred_score' not in data_samples[0]:
        if k > 1:
            raise ValueError(f'top-{k} accuracy needs `pred_score` in the data samples, got '
                             f'only {sorted(data_samples[0].keys())}')
        return np.asarray([[int(s['pred_label'].reshape(-1)[0])] for s in data_samples],
                          dtype=np.int32)
    scores = [s['pred_score'] for s in data_samples]
    batch = _rows_of_one_tensor(scores)
    if batch is not None:
        return topk_labels(batch, k).to(device='cpu', dtype=torch.int32).numpy()
    first = scores[0]
    rows = max(1, _CHUNK_BYTES // max(1, first.numel() * first.element_size()))
    out = [topk_labels(torch.stack(scores[i:i + rows]), k).to(device='cpu', dtype=torch.int32)
           for i in range(0, len(scores), rows)]
    return torch.cat(out).numpy()


def _rows_of_one_tensor(scores: Sequence[torch.Tensor]) -> Optional[torch.Tensor]:
    """The ``(N, C)`` tensor whose consecutive rows the scores are, or None."""
    first = scores[0]
    if first.dim() != 1 or first.stride(0) != 1:
        return None
    num, storage, offset = first.numel(), first.untyped_storage().data_ptr(), \
        first.storage_offset()
    for i, score in enumerate(scores):
        if (score.dim() != 1 or score.numel() != num or score.stride(0) != 1
                or score.dtype != first.dtype or score.device != first.device
                or score.storage_offset() != offset + i * num
                or score.untyped_storage().data_ptr() != storage):
            return None
    return first.as_strided((len(scores), num), (num, 1))


def _single_label(sample: dict) -> int:
    if 'gt_label' not in sample:
        raise ValueError('LongTailAccuracy needs `gt_label` in every data sample; the evaluated '
                         'split has no labels (for the unlabelled test split use '
                         'tools/test.py --submission)')
    label = sample['gt_label']
    if torch.is_tensor(label) or isinstance(label, np.ndarray):
        flat = label.reshape(-1)
        if flat.shape[0] != 1:
            raise ValueError(f'LongTailAccuracy expects one gt_label per sample, got '
                             f'{flat.tolist()}')
        return int(flat[0])
    return int(label)


def _check_topk(topk: Union[int, Sequence[int]]) -> Tuple[int, ...]:
    ks = (topk, ) if isinstance(topk, int) else tuple(topk)
    if not ks:
        raise ValueError(f'topk must be a positive int or a sequence of them, got {topk!r}')
    return tuple(sorted({check_int('topk', k, low=1, owner='LongTailAccuracy') for k in ks}))
