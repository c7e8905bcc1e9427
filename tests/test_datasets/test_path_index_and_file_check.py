"""The compact index (one buffer, offsets, labels) and the folder-listing file check."""
import os

import numpy as np
import pytest

from aliprod_plugins.datasets import PathIndex
from aliprod_plugins.datasets.file_check import find_missing

NAMES = ['a.jpg', 'bb/c.jpg', 'é.png', 'd', 'eeee.jpg']


def make_index(names=NAMES, labels=(3, 1, 4, 1, 5), class_folders=False):
    joined = ''.join(n + '\0' for n in names).encode()
    return PathIndex.from_joined(joined, np.array(labels), class_folders=class_folders)


def test_names_labels_and_relative_paths():
    index = make_index(class_folders=True)
    assert len(index) == 5 and index.has_labels
    assert [index.name(i) for i in range(5)] == NAMES
    assert index.relative_path(1) == '00001/bb/c.jpg'
    assert index.name_bytes_list() == [n.encode() for n in NAMES]
    assert index.nbytes == index.names.nbytes + 6 * 8 + 5 * 8
    unlabelled = PathIndex.from_joined(b'x\0y\0')
    assert not unlabelled.has_labels and list(unlabelled.labels) == [-1, -1]
    assert unlabelled.relative_path(1) == 'y' and not unlabelled.class_folders


@pytest.mark.parametrize('indices', [[0, 2, 4], [4, 0, 3, 3], [], [1]])
def test_take_compacts_the_buffer(indices):
    index = make_index()
    sub = index.take(indices)
    assert [sub.name(i) for i in range(len(sub))] == [NAMES[i] for i in indices]
    assert list(sub.labels) == [[3, 1, 4, 1, 5][i] for i in indices]
    assert sub.names.nbytes == sum(len(NAMES[i].encode()) + 1 for i in indices)
    with pytest.raises(ValueError, match='read-only'):
        sub.labels[:] = 0


def touch(path):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    open(path, 'wb').close()


def test_missing_files_in_class_folders(tmp_path):
    index = make_index(class_folders=True)
    for i in (0, 1, 4):
        touch(tmp_path / index.relative_path(i))
    os.makedirs(tmp_path / '00004')
    assert list(find_missing(index, str(tmp_path))) == [2, 3]
    touch(tmp_path / '00001' / 'd')
    touch(tmp_path / '00004' / 'é.png')
    assert len(find_missing(index, str(tmp_path))) == 0


def test_missing_files_of_a_list_relative_to_the_working_dir(tmp_path, monkeypatch):
    names = ['x/1.jpg', 'x/y/2.jpg', '3.jpg', 'z/4.jpg', 'x/5.jpg']
    index = make_index(names)
    monkeypatch.chdir(tmp_path)
    for name in ('x/1.jpg', '3.jpg', 'x/5.jpg'):
        touch(tmp_path / name)
    assert list(find_missing(index, '')) == [1, 3]
    (tmp_path / 'x' / 'y').mkdir()
    touch(tmp_path / 'x' / 'y' / 'other.jpg')  # another file in the folder does not count
    assert list(find_missing(index, '')) == [1, 3]
