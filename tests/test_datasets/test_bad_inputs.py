"""Every bad input gets a clear error naming the file and the entry; nothing is dropped."""
import json
import os
import os.path as osp
import re

import pytest
from dataset_testing import layout_root_fixture  # noqa: F401
from dataset_testing import read_entries, write_json, write_text

from aliprod_plugins.datasets import AliProductsDataset


def build(ann_file, num_classes=5, **kwargs):
    kwargs.setdefault('check_files', 'off')
    return AliProductsDataset(
        ann_file=str(ann_file), data_prefix='', num_classes=num_classes, **kwargs)


def test_missing_annotation_names_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match=re.escape(repr(str(tmp_path / 'train.json')))):
        AliProductsDataset(data_root=str(tmp_path), num_classes=5)


@pytest.mark.parametrize(
    'text,line,column',
    [
        ('{"images": [\n  {"class_id": "00001", "image_id": "a.jpg"}\n  {"class_id": "00002"}]}', 3,
         3),
        ('{"images": [{"class_id": "00001", "image_id": "a.jpg"}', 1, 55),  # just past the end
        ('', 1, 1),
    ])
def test_malformed_json_names_the_position(tmp_path, text, line, column):
    path = write_text(tmp_path / 'a.json', text)
    with pytest.raises(
            ValueError, match=re.escape(f'{path}: malformed JSON at line {line}, '
                                        f'column {column}')):
        build(path)


@pytest.mark.parametrize('obj,expected', [
    ({
        'imgs': []
    }, 'Object missing required field `images`'),
    ({
        'images': {
            'a': 1
        }
    }, 'Expected `array`, got `object` - at `$.images`'),
    ({
        'images': [{
            'class_id': '00001',
            'image_id': 'a.jpg'
        }, {
            'class_id': '00002'
        }]
    }, "Object missing required field `image_id` - at `$.images[1]` (entry 1 of 'images')"),
    ({
        'images': [{
            'class_id': 3,
            'image_id': 'a.jpg'
        }]
    }, "Expected `str`, got `int` - at `$.images[0].class_id` (entry 0 of 'images')"),
])
def test_wrong_schema_names_the_entry(tmp_path, obj, expected):
    path = write_text(tmp_path / 'a.json', json.dumps(obj))
    with pytest.raises(ValueError, match=re.escape(f'{path}: {expected}')):
        build(path)


def test_entry_without_class_id_names_its_index(tmp_path):
    path = write_json(tmp_path / 'a.json', [{
        'class_id': '00001',
        'image_id': 'a.jpg'
    }, {
        'class_id': '00002',
        'image_id': 'b.jpg'
    }, {
        'image_id': 'c.jpg'
    }])
    with pytest.raises(
            ValueError,
            match=re.escape(
                f"{path}: entry 2 of 'images' ({{\"image_id\": 'c.jpg'}}) has no 'class_id'")):
        build(path)


@pytest.mark.parametrize('class_id', ['00005', '123456', 'abc', '-0001', '1.5', ' 0001', ''])
def test_class_id_outside_the_range_names_entry_and_range(tmp_path, class_id):
    entries = [{
        'class_id': '00001',
        'image_id': 'a.jpg'
    }, {
        'class_id': class_id,
        'image_id': 'b.jpg'
    }]
    path = write_json(tmp_path / 'a.json', entries)
    what = "has no 'class_id'" if class_id == '' else \
        'has a class_id that is not a number in [0, 5) (num_classes=5)'
    with pytest.raises(
            ValueError, match=re.escape(f"{path}: entry 1 of 'images'") + '.*' + re.escape(what)):
        build(path)


def test_empty_image_id_names_the_entry(tmp_path):
    path = write_json(tmp_path / 'a.json', [{
        'class_id': '00001',
        'image_id': 'a.jpg'
    }, {
        'class_id': '00001',
        'image_id': ''
    }])
    with pytest.raises(
            ValueError,
            match=re.escape(f"{path}: entry 1 of 'images' "
                            "({\"class_id\": '00001', \"image_id\": ''})"
                            ' has an empty image_id')):
        build(path)


@pytest.mark.parametrize('text,message', [
    ('a.jpg 1\nb.jpg\nc.jpg 2\n', 'line 2: expected "<relative/path> <label>", got \'b.jpg\''),
    ('a.jpg 1\n\nb.jpg 7\n', "line 3: label '7' is not a number in [0, 5) (num_classes=5)"),
    ('a.jpg 1\nb.jpg x1\n', "line 2: label 'x1' is not a number in [0, 5)"),
    ('a.jpg 1\nb.jpg -1\n', "line 2: label '-1' is not a number in [0, 5)"),
])
def test_bad_list_lines_name_the_line(tmp_path, text, message):
    path = write_text(tmp_path / 'a.txt', text)
    with pytest.raises(ValueError, match=re.escape(f'{path}, {message}')):
        build(path)


@pytest.mark.parametrize('name,text', [('train.json', '{"images": []}'), ('t.txt', '\n \n')])
def test_empty_split_says_what_was_searched(tmp_path, name, text):
    write_text(tmp_path / name, text)
    with pytest.raises(
            RuntimeError,
            match=re.escape(
                f"Found 0 images in '{tmp_path / name}' (split 'train', data_root '{tmp_path}', "
                f"images under '{tmp_path / 'train'}')")):
        AliProductsDataset(data_root=str(tmp_path), ann_file=name, num_classes=5)


def test_unlabelled_annotation_for_a_labelled_split(layout_root):
    with pytest.raises(
            ValueError,
            match=r"test\.json: no entry has a label \(class_id\), but "
            r"split 'train' needs labels"):
        AliProductsDataset(data_root=layout_root, ann_file='test.json', num_classes=5)


def test_missing_images_are_reported_at_start_with_full_paths(layout_root, tmp_path):
    entries = read_entries(layout_root, 'train')
    extra = [{'class_id': '00003', 'image_id': f'gone{i}.jpg'} for i in range(7)] + \
        [{'class_id': '00004', 'image_id': 'nofolder.jpg'}]
    path = write_json(tmp_path / 'train.json', entries[:3] + extra + entries[3:])
    prefix = osp.join(layout_root, 'train')
    with pytest.raises(FileNotFoundError) as info:
        AliProductsDataset(ann_file=path, data_prefix=prefix, num_classes=5)
    message = str(info.value)
    assert f'8 of {len(entries) + 8} image files listed in {path} do not exist' in message
    for i in range(5):  # the first five, in annotation order, as full paths
        assert f'\n  {osp.join(prefix, "00003", f"gone{i}.jpg")}\n' in message
    assert 'gone5.jpg' not in message and '... and 3 more' in message
    assert 'check_files="off"' in message
    # the opt-out builds the same dataset without looking at the disk
    ds = AliProductsDataset(ann_file=path, data_prefix=prefix, num_classes=5, check_files='off')
    assert len(ds) == len(entries) + 8


def test_missing_images_of_a_list_file(layout_root, tmp_path):
    entries = read_entries(layout_root, 'val')
    lines = [f'{e["class_id"]}/{e["image_id"]} {int(e["class_id"])}' for e in entries]
    lines.insert(2, 'other/dir/missing.jpg 1')
    os.makedirs(tmp_path / 'other' / 'dir')
    path = write_text(tmp_path / 'val.txt', '\n'.join(lines))
    prefix = osp.join(layout_root, 'val')
    with pytest.raises(
            FileNotFoundError,
            match=re.escape(
                f'1 of {len(lines)} image files listed in {path} do not exist under {prefix!r}; '
                f'the first ones:\n  {prefix}/other/dir/missing.jpg\n')):
        AliProductsDataset(ann_file=path, data_prefix=prefix, split='val', num_classes=5)


@pytest.mark.parametrize('kwargs,message', [
    (dict(split='valid'), "split must be one of ('train', 'val', 'test'), got 'valid'"),
    (dict(max_per_class=0),
     'AliProductsDataset: max_per_class expected an int >= 1 or None, got 0'),
    (dict(max_per_class=2.5),
     'AliProductsDataset: max_per_class expected an int >= 1 or None, got 2.5'),
    (dict(max_per_class=10, split='val'),
     "max_per_class applies to the training split only, got max_per_class=10 with split='val'"),
    (dict(num_classes=0), 'AliProductsDataset: num_classes expected an int >= 1, got 0'),
    (dict(cap_seed=-1), 'AliProductsDataset: cap_seed expected an int >= 0, got -1'),
    (dict(num_classes=True), 'AliProductsDataset: num_classes expected an int >= 1, got True'),
    (dict(max_resample=True), 'AliProductsDataset: max_resample expected an int >= 1, got True'),
    (dict(on_error='skip'), "on_error must be one of ('raise', 'resample'), got 'skip'"),
    (dict(max_resample=0), 'AliProductsDataset: max_resample expected an int >= 1, got 0'),
    (dict(check_files='stat'), "check_files must be one of ('list', 'off'), got 'stat'"),
    (dict(ann_format='csv'), "ann_format must be one of ('auto', 'json', 'list'), got 'csv'"),
    (dict(metainfo=dict(classes=('a', 'b'))),
     "metainfo['classes'] must hold num_classes=5 names, got 2"),
])
def test_bad_options(layout_root, kwargs, message):
    kwargs.setdefault('num_classes', 5)
    with pytest.raises(ValueError, match=re.escape(message)):
        AliProductsDataset(data_root=layout_root, **kwargs)
