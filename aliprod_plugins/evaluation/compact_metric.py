"""A ``BaseMetric`` that stores one small dict of arrays per batch instead of one per sample.

MMEngine's ``collect_results`` restores the dataset order by interleaving the ranks' lists
item by item and drops the sampler's padding by truncating to the dataset size; that only
works with one item per sample. :class:`CompactMetric` concatenates each rank's batches into
one dict of arrays, gathers one such dict per rank and applies the same rule to the rows:
rank ``r``'s ``j``-th row is dataset position ``j * world_size + r`` (``DefaultSampler``'s
assignment), and rows past ``size`` are padding.
"""
from typing import Any, Dict, List, Sequence

import numpy as np
from mmengine.dist import broadcast_object_list, collect_results, get_world_size, is_main_process
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger

Arrays = Dict[str, np.ndarray]


def merge_rank_parts(parts: Sequence[Arrays], size: int) -> Arrays:
    """Merge per-rank row arrays into dataset order and drop the sampler's padding.

    Args:
        parts (Sequence[dict]): One dict of equally long arrays per rank, in rank order.
        size (int): Length of the dataset.

    Returns:
        dict: The concatenated arrays, in dataset order, at most ``size`` rows.
    """
    world_size = len(parts)
    lengths = [len(next(iter(p.values()))) if p else 0 for p in parts]
    position = np.concatenate(
        [np.arange(n, dtype=np.int64) * world_size + r for r, n in enumerate(lengths)])
    order = np.argsort(position, kind='stable')[:size]
    keys = next((list(p) for p in parts if p), [])
    return {k: np.concatenate([p[k] for p in parts if p])[order] for k in keys}


def concat_batches(batches: List[Arrays]) -> Arrays:
    """Concatenate a list of per-batch dicts of arrays (an empty list gives an empty dict)."""
    if not batches:
        return {}
    return {k: np.concatenate([b[k] for b in batches]) for k in batches[0]}


class CompactMetric(BaseMetric):
    """Base class: ``process`` appends dicts of row arrays; ``compute_metrics`` gets one dict.

    Subclasses append ``{name: array with one row per sample}`` to ``self.results`` in
    ``process`` and implement ``compute_metrics(rows: dict)``, which receives the rows of the
    whole dataset, gathered from all ranks, in dataset order.
    """

    def evaluate(self, size: int) -> dict:
        """Gather the rows of all ranks, compute the metrics on rank 0 and broadcast them.

        Args:
            size (int): Length of the evaluated dataset.

        Returns:
            dict: The metrics, each name prefixed with ``self.prefix``.
        """
        local = concat_batches(self.results)
        if not local:
            MMLogger.get_current_instance().warning(
                f'{self.__class__.__name__} got no samples on this rank')
        world_size = get_world_size()
        if world_size > 1:
            kwargs: Dict[str, Any] = {}
            if self.collect_device == 'cpu':
                kwargs['tmpdir'] = self.collect_dir
            parts = collect_results([local], world_size, self.collect_device, **kwargs)
        else:
            parts = [local]
        if is_main_process():
            metrics = self.compute_metrics(merge_rank_parts(parts, size))
            if self.prefix:
                metrics = {f'{self.prefix}/{k}': v for k, v in metrics.items()}
            out = [metrics]
        else:
            out = [None]
        broadcast_object_list(out)
        self.results.clear()
        return out[0]
