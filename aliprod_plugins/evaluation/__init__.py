"""aliprod_plugins.evaluation: long-tail metrics, the submission writer, calibration helpers."""
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
