"""Long-tail metrics, the submission writer, training class counts, post-hoc calibration.

- :mod:`.long_tail_accuracy`: ``LongTailAccuracy`` (``METRICS``): top-1 / top-5, mean class
  error, many- / medium- / few-shot accuracy, top-5 labels kept per sample;
- :mod:`.functional`: ``long_tail_metrics``, ``shot_masks``, ``topk_labels``;
- :mod:`.compact_metric`: ``CompactMetric``, ``merge_rank_parts`` (compact per-rank results);
- :mod:`.submission_writer`: ``SubmissionWriter`` (``METRICS``), the challenge's CSV;
- :mod:`.train_counts`, :mod:`.train_counts_hook`: the training set's class counts after
  capping and ``TrainCountsHook`` (``HOOKS``), which stores them;
- :mod:`.calibration`: post-hoc tau-normalisation and logit adjustment (``tools/tau_norm.py``);
- :mod:`.reports`: the metrics table, metrics JSON and per-class CSV a person reads.
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
