"""Distributed evaluation: per-rank compact rows merge back into dataset order."""
import csv
import os

import numpy as np
import pytest
import torch

from aliprod_plugins.evaluation import LongTailAccuracy, SubmissionWriter, merge_rank_parts
from conftest import run_gloo_ranks

NUM_CLASSES, SIZE = 6, 11  # 11 samples on 2 ranks: DefaultSampler pads one sample


def default_sampler_indices(size, world_size, rank):
    """The indices MMEngine's DefaultSampler(shuffle=False) gives a rank, padding included."""
    total = -(-size // world_size) * world_size
    indices = (list(range(size)) * 2)[:total]
    return indices[rank:total:world_size]


@pytest.mark.parametrize('world_size', [1, 2, 3, 4])
def test_merge_restores_dataset_order_and_drops_padding(world_size):
    parts = []
    for rank in range(world_size):
        idx = np.array(default_sampler_indices(SIZE, world_size, rank))
        parts.append({'idx': idx, 'double': 2 * idx})
    merged = merge_rank_parts(parts, SIZE)
    assert merged['idx'].tolist() == list(range(SIZE))
    assert merged['double'].tolist() == [2 * i for i in range(SIZE)]


def test_merge_of_empty_parts():
    assert merge_rank_parts([{}, {}], 0) == {}
    merged = merge_rank_parts([{'a': np.arange(2)}, {}], 2)
    assert merged['a'].tolist() == [0, 1]


def _samples(indices):
    rng = np.random.default_rng(0)
    scores = torch.from_numpy(rng.random((SIZE, NUM_CLASSES), dtype=np.float32))
    gt = rng.integers(0, NUM_CLASSES, SIZE)
    out = []
    for i in indices:
        out.append({'pred_score': scores[i], 'gt_label': torch.tensor([int(gt[i])]),
                    'img_path': f'/data/test/{i}.jpg'})
    return out


def _metrics(tmp):
    return [LongTailAccuracy(topk=(1, 2), class_counts=[200, 50, 50, 10, 3, 1],
                             collect_dir=os.path.join(tmp, 'collect')),
            SubmissionWriter(out_file=os.path.join(tmp, 'sub.csv'),
                             collect_dir=os.path.join(tmp, 'collect2'))]


def _worker(rank, world_size, tmp):
    res = {}
    for metric in _metrics(tmp):
        samples = _samples(default_sampler_indices(SIZE, world_size, rank))
        for start in range(0, len(samples), 2):  # batches of 2 per rank
            metric.process(None, samples[start:start + 2])
        res.update(metric.evaluate(SIZE))
    return res


def test_two_gloo_ranks_agree_with_one_process(tmp_path):
    single = {}
    for metric in _metrics(str(tmp_path / 'single')):
        metric.process(None, _samples(range(SIZE)))
        single.update(metric.evaluate(SIZE))
    with open(tmp_path / 'single' / 'sub.csv') as f:
        single_rows = list(csv.reader(f))
    assert len(single_rows) == SIZE + 1

    results = run_gloo_ranks(_worker, 2, (str(tmp_path / 'dist'), ))
    assert results[0] == pytest.approx(single) and results[1] == pytest.approx(single)
    with open(tmp_path / 'dist' / 'sub.csv') as f:
        assert list(csv.reader(f)) == single_rows
