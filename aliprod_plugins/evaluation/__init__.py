"""Long-tail metrics, the submission writer, calibration helpers.

- ``long_tail_accuracy``: ``LongTailAccuracy``, top-k, class-averaged and shot-group accuracy
- ``functional``: those metrics from top-k labels, vectorised
- ``compact_metric``: ``CompactMetric``, a metric that keeps small arrays per batch
- ``train_counts``: where the training-set class counts come from
- ``train_counts_hook``: ``TrainCountsHook``, gives ``LongTailAccuracy`` the run's counts
- ``calibration``: tau-normalisation and logit adjustment after training
- ``submission_writer``: ``SubmissionWriter``, the challenge's ``id,predicted`` file
- ``reports``: metrics table, metrics JSON, per-class CSV
"""
from .compact_metric import CompactMetric, merge_rank_parts
from .functional import long_tail_metrics, shot_masks, topk_labels
from .long_tail_accuracy import LongTailAccuracy
from .submission_writer import SubmissionWriter
from .train_counts import (build_train_dataset, counts_from_dataset, load_class_counts,
                           train_class_counts)
from .train_counts_hook import TrainCountsHook

__all__ = [
    'CompactMetric', 'LongTailAccuracy', 'SubmissionWriter', 'TrainCountsHook',
    'build_train_dataset', 'counts_from_dataset', 'load_class_counts', 'long_tail_metrics',
    'merge_rank_parts', 'shot_masks', 'topk_labels', 'train_class_counts'
]
