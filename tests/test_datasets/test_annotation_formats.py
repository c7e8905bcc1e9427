"""Both annotation formats, format detection, and piecewise parsing giving identical results."""
import json
import os.path as osp
import re

import numpy as np
import pytest
from dataset_testing import layout_root_fixture  # noqa: F401
from dataset_testing import read_entries, write_json, write_text

from aliprod_plugins.datasets import (AliProductsDataset, json_annotation, list_annotation,
                                      load_annotation)
from aliprod_plugins.datasets.annotation_utils import parse_decimal


def infos(ds):
    return [ds.get_data_info(i) for i in range(len(ds))]


def as_list_file(root, split, path):
    lines = [
        f'{e["class_id"]}/{e["image_id"]} {int(e["class_id"])}' for e in read_entries(root, split)
    ]
    return write_text(path, '\n'.join(lines) + '\n')


def test_list_file_gives_the_same_dataset_as_the_json(layout_root, tmp_path):
    ann = as_list_file(layout_root, 'train', tmp_path / 'train.txt')
    ds = AliProductsDataset(data_root=layout_root, ann_file=ann, num_classes=5)
    ref = AliProductsDataset(data_root=layout_root, num_classes=5)
    assert ds.ann_format == 'list' and ref.ann_format == 'json'
    assert infos(ds) == infos(ref)
    np.testing.assert_array_equal(ds.class_counts, ref.class_counts)


def test_list_whitespace_bom_crlf_and_odd_names(tmp_path):
    raw = (b'\xef\xbb\xbf  a/one.jpg 3\r\n\r\n\tb/two words.jpg\t 1  \r\n'
           b'c/caf\xc3\xa9.jpg 0\n d/\xff.jpg   12\n\n  \n')
    path = tmp_path / 'a.lst'
    path.write_bytes(raw)
    index, fmt = load_annotation(str(path), num_classes=20)
    assert fmt == 'list'
    np.testing.assert_array_equal(index.labels, [3, 1, 0, 12])
    assert [index.relative_path(i) for i in range(4)] == \
        ['a/one.jpg', 'b/two words.jpg', 'c/café.jpg', 'd/\udcff.jpg']
    # names that are not UTF-8 map back to the same bytes, as os.fsencode expects
    assert index.relative_path(3).encode('utf-8', 'surrogateescape') == b'd/\xff.jpg'


@pytest.mark.parametrize('name,content,fmt', [
    ('test.txt', 'x/1.jpg\nx/2.jpg\n', 'list'),
    ('test.json', '{"images": [{"image_id": "x/1.jpg"}, {"image_id": "x/2.jpg"}]}', 'json'),
])
def test_unlabelled_list_and_json_for_the_test_split(tmp_path, name, content, fmt):
    write_text(tmp_path / name, content)
    ds = AliProductsDataset(
        data_root=str(tmp_path),
        ann_file=name,
        split='test',
        num_classes=5,
        check_files='off')
    assert ds.ann_format == fmt
    assert not ds.has_labels and len(ds) == 2
    assert ds.get_data_info(1) == dict(img_path=osp.join(tmp_path, 'test', 'x/2.jpg'), sample_idx=1)
    assert ds.get_gt_labels().tolist() == [-1, -1]
    # an unlabelled annotation is refused for a split that needs labels
    with pytest.raises(ValueError, match=f'{name}: no entry has a label'):
        AliProductsDataset(data_root=str(tmp_path), ann_file=name, split='val', num_classes=5,
                           check_files='off')


@pytest.mark.parametrize('name,content,fmt', [
    ('a.json', '{"images": [{"class_id": "00001", "image_id": "a.jpg"}]}', 'json'),
    ('a.txt', '  {"images": [{"class_id": "00001", "image_id": "a.jpg"}]}', 'json'),
    ('annotations', 'x/a.jpg 1\n', 'list'),
    ('a.txt', 'x/a.jpg 1\n', 'list'),
])
def test_format_is_picked_by_suffix_or_content(tmp_path, name, content, fmt):
    index, found = load_annotation(write_text(tmp_path / name, content), num_classes=5)
    assert found == fmt and list(index.labels) == [1]


def test_format_can_be_forced(tmp_path):
    path = write_text(tmp_path / 'odd.json', 'x/a.jpg 1\n')
    with pytest.raises(ValueError, match='malformed JSON at line 1'):
        load_annotation(path, 5)
    assert load_annotation(path, 5, fmt='list')[1] == 'list'


def _random_entries(n, seed):
    rng = np.random.default_rng(seed)
    return [{
        'class_id': f'{c:05d}',
        'image_id': f'{i}_{c}.jpg',
        'extra': {
            'k': [1, '}']
        }
    } for i, c in enumerate(rng.integers(0, 300, n).tolist())]


@pytest.mark.parametrize('indent', [None, 2])
def test_json_parsed_in_pieces_equals_one_piece(tmp_path, monkeypatch, indent):
    entries = _random_entries(500, indent or 0)
    entries[100]['image_id'] = 'tricky},{"x.jpg'  # a cut candidate inside a string
    path = write_text(tmp_path / 'a.json',
                      json.dumps({
                          'meta': {
                              'images': []
                          },
                          'images': entries
                      }, indent=indent))
    whole, _ = load_annotation(path, 300)
    monkeypatch.setattr(json_annotation, 'CHUNK_BYTES', 300)
    with open(path, 'rb') as f:
        assert len(json_annotation._pieces(f.read())) > 20
    pieces, _ = load_annotation(path, 300)
    for index in (whole, pieces):
        np.testing.assert_array_equal(index.labels, [int(e['class_id']) for e in entries])
        assert [index.name(i) for i in range(len(index))] == [e['image_id'] for e in entries]


def test_json_errors_keep_their_global_position_in_pieces(tmp_path, monkeypatch):
    monkeypatch.setattr(json_annotation, 'CHUNK_BYTES', 100)
    entries = _random_entries(50, 1)
    del entries[37]['class_id']
    path = write_json(tmp_path / 'a.json', entries)
    with pytest.raises(ValueError, match=re.escape("entry 37 of 'images'")):
        load_annotation(path, 300)
    entries = _random_entries(50, 1)
    del entries[41]['image_id']
    path = write_json(tmp_path / 'b.json', entries)
    with pytest.raises(ValueError, match=re.escape("(entry 41 of 'images')")):
        load_annotation(path, 300)


def test_list_parsed_in_pieces_equals_one_piece(tmp_path, monkeypatch):
    rng = np.random.default_rng(3)
    labels = rng.integers(0, 100_000, 400)
    text = ''.join(f'd{i % 7}/img {i}.jpg {c}\n' + ('\n' if i % 13 == 0 else '')
                   for i, c in enumerate(labels.tolist()))
    path = write_text(tmp_path / 'a.txt', text)
    whole, _ = load_annotation(path, 100_000)
    monkeypatch.setattr(list_annotation, 'CHUNK_BYTES', 64)
    pieces, _ = load_annotation(path, 100_000)
    for index in (whole, pieces):
        np.testing.assert_array_equal(index.labels, labels)
        assert index.relative_path(123) == 'd4/img 123.jpg'
    assert pieces.names.tobytes() == whole.names.tobytes()
    # a line without a label in a later piece is named with its line number in the file
    path = write_text(tmp_path / 'b.txt', 'a.jpg 1\n' * 30 + 'b.jpg\n' + 'a.jpg 1\n' * 5)
    with pytest.raises(ValueError, match=re.escape("b.txt, line 31: expected")):
        load_annotation(path, 5)
    path = write_text(tmp_path / 'c.txt', 'a.jpg\n' * 30 + 'b.jpg 1\n')
    with pytest.raises(ValueError, match=re.escape("c.txt, line 1: expected")):
        load_annotation(path, 5)


def test_parse_decimal_fixed_and_variable_widths():
    text = b'00042\x0012345\x0000000\x00'
    buf = np.frombuffer(text, dtype=np.uint8)
    starts, ends = np.array([0, 6, 12]), np.array([5, 11, 17])
    values, ok = parse_decimal(buf, starts, ends)
    assert list(values) == [42, 12345, 0] and ok.all()
    text = b'7 123456789012345678 x12 42 1234567890123456789 '
    buf = np.frombuffer(text, dtype=np.uint8)
    fields = [m.span() for m in re.finditer(rb'\S+', text)]
    values, ok = parse_decimal(buf, *np.array(fields).T)
    assert list(ok) == [True, True, False, True, False]
    assert list(values[ok]) == [7, 123456789012345678, 42]
