"""The optional index cache: a second start reuses it, an edited annotation never does."""
import os

import numpy as np
import pytest
from dataset_testing import log_messages_fixture  # noqa: F401
from dataset_testing import write_json

from aliprod_plugins.datasets import AliProductsDataset, index_cache, json_annotation

ENTRIES = [{'class_id': f'{c:05d}', 'image_id': f'{i}.jpg'} for i, c in enumerate([0, 2, 2, 1])]


def build(path, **kwargs):
    return AliProductsDataset(
        ann_file=str(path), num_classes=3, check_files='off', cache_index=True, **kwargs)


def forbid_parsing(monkeypatch):

    def fail(*args):
        raise AssertionError('parsed although a valid cache exists')

    monkeypatch.setattr(json_annotation, 'parse_json', fail)


def test_second_start_reads_the_cache(tmp_path, monkeypatch):
    path = write_json(tmp_path / 'train.json', ENTRIES)
    first = build(path)
    assert os.path.isfile(path + index_cache.SUFFIX)
    forbid_parsing(monkeypatch)
    second = build(path)
    assert [second.get_data_info(i) for i in range(4)] == \
        [first.get_data_info(i) for i in range(4)]
    np.testing.assert_array_equal(second.class_counts, [1, 1, 2])
    with pytest.raises(AssertionError, match='parsed although'):  # another num_classes
        AliProductsDataset(ann_file=path, num_classes=4, check_files='off', cache_index=True)


def test_an_edited_annotation_is_parsed_again(tmp_path):
    path = write_json(tmp_path / 'train.json', ENTRIES)
    build(path)
    edited = [dict(e) for e in ENTRIES]
    edited[0]['class_id'] = '00001'  # same size, same modification time granularity
    stat = os.stat(path)
    write_json(path, edited)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert list(build(path).get_gt_labels()) == [1, 2, 2, 1]


def test_unwritable_folder_only_costs_the_cache(tmp_path, monkeypatch, log_messages):
    path = write_json(tmp_path / 'train.json', ENTRIES)

    def refuse(*args, **kwargs):
        raise PermissionError(13, 'Permission denied')

    monkeypatch.setattr(index_cache.tempfile, 'mkstemp', refuse)
    assert len(build(path)) == 4
    assert not os.path.exists(path + index_cache.SUFFIX)
    assert any('cannot write the annotation cache' in m for m in log_messages)
