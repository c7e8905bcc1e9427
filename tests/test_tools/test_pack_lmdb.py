"""tools/pack_lmdb.py: what it writes, capped splits, bad images, completing and refusing."""
import json
import os.path as osp

import cv2
import lmdb
import numpy as np
import pytest
from pack_testing import DEMO_SHORT_SIDE, pack, photo_root_fixture, tool_fixture

from aliprod_plugins.fileio import PackLmdbBackend, read_meta
from aliprod_plugins.transforms import decode_image

TRAIN_COUNTS = [10, 6, 3]
#: Bounds on the mean absolute difference (grey levels) between a packed image and a fresh
#: full decode of its source shrunk with INTER_AREA to the same size. The only loss is the
#: JPEG q90 4:2:0 re-encode, which on these small (40-px), sharp-edged images measures up to
#: 4.9 per image and 3.3 on average (real photos at 176 px: 3.4 on average); a wrong
#: interpolation, channel order or quality shows up above these.
MAD_BOUND, MEAN_MAD_BOUND = 6.0, 4.0


tool = tool_fixture()
root = photo_root_fixture(TRAIN_COUNTS)


@pytest.fixture(scope='module')
def train_pack(tool, root, tmp_path_factory):
    out = str(tmp_path_factory.mktemp('packs') / 'train')
    pack(tool, root, out, args=('--workers', '2'))
    return out


def _entries(root, split='train'):
    with open(osp.join(root, f'{split}.json')) as f:
        return [f'{e["class_id"]}/{e["image_id"]}' for e in json.load(f)['images']]


def test_pack_reads_back_as_a_fresh_resize_of_the_source(root, train_pack):
    meta = read_meta(train_pack)
    assert meta['complete'] and meta['encoding'] == dict(
        short_side=DEMO_SHORT_SIDE, quality=90, subsampling='420')
    keys = _entries(root)
    assert meta['dataset']['num_images'] == len(keys) == sum(TRAIN_COUNTS)
    assert meta['bad_images'] == {}
    backend = PackLmdbBackend(train_pack, root=osp.join(root, 'train'))
    mads = []
    for key in keys:
        packed = backend.get(osp.join(root, 'train', key))
        assert packed[:3] == b'\xff\xd8\xff'  # every image re-encoded as JPEG (PNGs too)
        img = decode_image(packed, channel_order='rgb')[0]
        with open(osp.join(root, 'train', key), 'rb') as f:
            source = decode_image(f.read(), channel_order='rgb')[0]
        h, w = source.shape[:2]
        short = min(h, w)
        expected = (DEMO_SHORT_SIDE, round(w * DEMO_SHORT_SIDE / short)) if h <= w else \
            (round(h * DEMO_SHORT_SIDE / short), DEMO_SHORT_SIDE)
        assert img.shape == expected + (3, ), key
        fresh = cv2.resize(source, expected[::-1], interpolation=cv2.INTER_AREA)
        mads.append(np.abs(img.astype(np.int16) - fresh).mean())
    assert max(mads) <= MAD_BOUND and np.mean(mads) <= MEAN_MAD_BOUND, mads


def test_small_images_are_never_enlarged(tool, root, tmp_path):
    out = str(tmp_path / 'big_side')
    pack(tool, root, out, args=('--short-side', '200', '--quality', '95'))
    backend = PackLmdbBackend(out, root=osp.join(root, 'train'))
    for key in _entries(root):
        with open(osp.join(root, 'train', key), 'rb') as f:
            source_shape = decode_image(f.read())[0].shape
        assert decode_image(backend.get(osp.join(root, 'train', key)))[0].shape == source_shape


def test_capped_split_holds_only_the_kept_images(tool, root, tmp_path):
    out = str(tmp_path / 'capped')
    pack(tool, root, out, extra_options=['train_dataloader.dataset.max_per_class=4',
                                         'train_dataloader.dataset.cap_seed=3'])
    meta = read_meta(out)
    assert meta['dataset']['max_per_class'] == 4 and meta['dataset']['cap_seed'] == 3
    with lmdb.open(out, readonly=True, lock=False) as env, env.begin() as txn:
        keys = [k.decode() for k in txn.cursor().iternext(values=False)]
    assert len(keys) == meta['dataset']['num_images'] == 4 + 4 + 3
    per_class = {c: sum(k.startswith(f'{c:05d}/') for k in keys) for c in range(3)}
    assert per_class == {0: 4, 1: 4, 2: 3}
    assert set(keys) <= set(_entries(root))


def test_bad_images_are_recorded_counted_and_stored_empty(tool, root, tmp_path, capsys):
    import shutil
    broken = tmp_path / 'broken_root'
    shutil.copytree(root, broken)
    keys = _entries(root)
    truncated, not_image = keys[1], keys[12]
    data = (broken / 'train' / truncated).read_bytes()
    (broken / 'train' / truncated).write_bytes(data[:len(data) // 3])
    (broken / 'train' / not_image).write_bytes(b'this is not an image')
    out = str(tmp_path / 'pack')
    pack(tool, str(broken), out)
    summary = capsys.readouterr().out.strip().splitlines()[-1]
    assert f'{len(keys)} images, {len(keys) - 2} written' in summary and '2 bad' in summary
    meta = read_meta(out)
    assert sorted(meta['bad_images']) == sorted([truncated, not_image])
    assert 'unrecognised image data' in meta['bad_images'][not_image]
    assert 'truncated' in meta['bad_images'][truncated]
    report = (tmp_path / 'pack' / 'bad_images.tsv').read_text().splitlines()
    assert sorted(line.split('\t')[0] for line in report) == sorted([truncated, not_image])
    with lmdb.open(out, readonly=True, lock=False) as env, env.begin() as txn:
        assert txn.get(not_image.encode()) == b'' and txn.stat()['entries'] == len(keys)


def _drop_keys_and_mark_incomplete(out, keys, emptied):
    """What an interrupted run leaves: ``keys`` not written yet, ``emptied`` recorded bad."""
    with lmdb.open(out) as env, env.begin(write=True) as txn:
        for key in keys:
            assert txn.delete(key.encode())
        txn.put(emptied.encode(), b'')
    meta_path = osp.join(out, 'aliprod_pack.json')
    with open(meta_path) as f:
        meta = json.load(f)
    meta['complete'] = False
    with open(meta_path, 'w') as f:
        json.dump(meta, f)


def test_second_run_completes_an_interrupted_pack(tool, root, train_pack, tmp_path, capsys):
    import shutil
    out = str(tmp_path / 'resumed')
    shutil.copytree(train_pack, out)
    keys = _entries(root)
    dropped, emptied = keys[:3] + keys[-2:], keys[4]
    with lmdb.open(out, readonly=True, lock=False) as env, env.begin() as txn:
        kept = {k: txn.get(k.encode()) for k in keys[5:8]}
    _drop_keys_and_mark_incomplete(out, dropped, emptied)
    pack(tool, root, out)
    lines = capsys.readouterr().out.strip().splitlines()
    assert 'completing the interrupted pack' in '\n'.join(lines)
    # the image recorded bad by the interrupted run is tried again
    assert f'{len(dropped) + 1} written, {len(keys) - len(dropped) - 1} already packed, 0 bad' \
        in lines[-1]
    assert read_meta(out)['complete']
    with lmdb.open(out, readonly=True, lock=False) as env, env.begin() as txn:
        assert txn.stat()['entries'] == len(keys)
        assert all(txn.get(k.encode()) == v for k, v in kept.items())  # not rewritten
        assert all(len(txn.get(k.encode())) > 0 for k in dropped + [emptied])
    pack(tool, root, out)
    assert 'already complete' in capsys.readouterr().out


def test_second_run_with_other_settings_or_data_is_refused(tool, root, train_pack, tmp_path):
    with pytest.raises(SystemExit, match=r'quality: pack 90, this run 80'):
        pack(tool, root, train_pack, args=('--quality', '80'))
    with pytest.raises(SystemExit, match=r'max_per_class: pack 110, this run 5'):
        pack(tool, root, train_pack, extra_options=['train_dataloader.dataset.max_per_class=5'])
    with pytest.raises(SystemExit, match=r"split: pack 'train', this run 'val'"):
        pack(tool, root, train_pack, split='val')
    other = tmp_path / 'not_a_pack'
    other.mkdir()
    (other / 'notes.txt').write_text('mine')
    with pytest.raises(SystemExit, match='is not an aliprod pack'):
        pack(tool, root, str(other))
    assert sorted(p.name for p in other.iterdir()) == ['notes.txt']
