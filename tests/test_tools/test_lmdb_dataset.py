"""AliProductsDataset(lmdb=...): reading a pack, refusing one that does not match, on_error,
and DataLoader workers (forked after the parent read the pack) each opening their own view."""
import json
import os
import os.path as osp
import shutil

import numpy as np
import pytest
import torch
from mmengine.registry import init_default_scope
from pack_testing import load_tool, pack, photo_root_fixture, read_pack

from aliprod_plugins.datasets import AliProductsDataset
from aliprod_plugins.fileio import lmdb_backend
from aliprod_plugins.transforms import ImageLoadError, decode_image

TRAIN_COUNTS = [10, 6, 3]
LOAD = dict(type='LoadImageScaled', min_size=32)


@pytest.fixture(scope='module')
def tool():
    init_default_scope('mmpretrain')
    return load_tool()


root = photo_root_fixture(TRAIN_COUNTS)


def _stored(pack_dir):
    """Every key and value of a pack, read with plain lmdb (before the dataset opens it)."""
    return {k.decode(): v for k, v in read_pack(pack_dir).items()}


@pytest.fixture(scope='module')
def packed_root(tool, root, tmp_path_factory):
    """A copy of ``root`` with packs/train and packs/val and no image folders left, and the
    packs' content."""
    copy = str(tmp_path_factory.mktemp('packed') / 'root')
    shutil.copytree(root, copy)
    stored = {}
    for split in ('train', 'val'):
        pack(tool, copy, osp.join(copy, 'packs', split), split=split)
        stored[split] = _stored(osp.join(copy, 'packs', split))
        shutil.rmtree(osp.join(copy, split))
    return copy, stored


def _dataset(data_root, split='train', **kwargs):
    kwargs.setdefault('max_per_class', 110 if split == 'train' else None)  # the demo config's
    kwargs.setdefault('pipeline', [LOAD, dict(type='PackInputs')])
    return AliProductsDataset(data_root=data_root, split=split, num_classes=3, **kwargs)


def test_reads_every_image_from_the_pack_without_the_folders(packed_root):
    packed_root, stored = packed_root
    for split in ('train', 'val'):
        ds = _dataset(packed_root, split, lmdb=f'packs/{split}', pipeline=[LOAD])
        assert len(ds) == (sum(TRAIN_COUNTS) if split == 'train' else 6)
        for i in range(len(ds)):
            out = ds[i]
            key = osp.relpath(out['img_path'], osp.join(packed_root, split))
            expected = decode_image(stored[split][key])[0]
            assert np.array_equal(out['img'], expected), key
    # an absolute lmdb path works too
    ds = _dataset(packed_root, lmdb=osp.join(packed_root, 'packs', 'train'), pipeline=[LOAD])
    assert ds[0]['img'].shape[2] == 3


def _refusal(data_root, **kwargs):
    with pytest.raises((ValueError, FileNotFoundError)) as info:
        _dataset(data_root, **kwargs)
    return str(info.value)


def test_mismatched_packs_are_refused_naming_the_pack_and_the_difference(
        tool, root, packed_root, tmp_path):
    packed_root = packed_root[0]
    train_pack = osp.join(packed_root, 'packs', 'train')
    msg = _refusal(packed_root, lmdb='packs/train', max_per_class=4)
    assert train_pack in msg and 'max_per_class: pack 110, dataset 4' in msg
    msg = _refusal(packed_root, lmdb='packs/train', cap_seed=1)
    assert 'cap_seed: pack 0, dataset 1' in msg
    msg = _refusal(packed_root, lmdb='packs/val')  # the val pack for the train split
    assert 'another annotation (pack: val.json' in msg and "split: pack 'val', dataset 'train'" \
        in msg
    # another annotation: one entry fewer
    other = tmp_path / 'edited'
    shutil.copytree(packed_root, other)
    entries = json.loads((other / 'train.json').read_text())
    entries['images'] = entries['images'][:-1]
    (other / 'train.json').write_text(json.dumps(entries))
    msg = _refusal(str(other), lmdb='packs/train')
    assert 'another annotation' in msg and str(other / 'packs' / 'train') in msg
    # images missing: a pack of the first 5 images only (indices=5)
    subset = str(tmp_path / 'subset_pack')
    pack(tool, root, subset, extra_options=['train_dataloader.dataset.indices=5'])
    msg = _refusal(root, lmdb=subset)
    assert f'{sum(TRAIN_COUNTS) - 5} of {sum(TRAIN_COUNTS)} images of the dataset are not in ' \
           f'the pack' in msg and subset in msg
    assert len(_dataset(root, lmdb=subset, indices=5)) == 5  # the matching dataset reads it
    # an interrupted pack, and a folder that is no pack
    meta_path = osp.join(subset, 'aliprod_pack.json')
    meta = json.loads(open(meta_path).read())
    meta['complete'] = False
    with open(meta_path, 'w') as f:
        json.dump(meta, f)
    assert 'is incomplete' in _refusal(root, lmdb=subset, indices=5)
    assert 'not found' in _refusal(root, lmdb=str(tmp_path / 'nothing_here'))


def test_bad_options_are_refused(packed_root):
    packed_root = packed_root[0]
    with pytest.raises(ValueError, match=r'lmdb must be a pack folder \(str\) or None, got 3'):
        _dataset(packed_root, lmdb=3)
    with pytest.raises(ValueError, match=r"expected one of \('LoadImageScaled', "
                       r"'LoadImageFromFile'\), got \['PackInputs'\]"):
        _dataset(packed_root, lmdb='packs/train', pipeline=[dict(type='PackInputs')])
    with pytest.raises(ValueError, match='already has backend_args'):
        _dataset(packed_root, lmdb='packs/train',
                 pipeline=[dict(LOAD, backend_args=dict(backend='local'))])


@pytest.fixture(scope='module')
def broken_pack(tool, root, tmp_path_factory):
    """A pack in which image 1 (truncated) and image 12 (not an image) were recorded bad."""
    broken = tmp_path_factory.mktemp('broken') / 'root'
    shutil.copytree(root, broken)
    entries = json.loads((broken / 'train.json').read_text())['images']
    bad = [f'{entries[i]["class_id"]}/{entries[i]["image_id"]}' for i in (1, 12)]
    data = (broken / 'train' / bad[0]).read_bytes()
    (broken / 'train' / bad[0]).write_bytes(data[:len(data) // 3])
    (broken / 'train' / bad[1]).write_bytes(b'this is not an image')
    pack(tool, str(broken), str(broken / 'packs' / 'train'))
    return str(broken), bad


def test_bad_images_in_a_pack_follow_on_error(broken_pack):
    data_root, bad = broken_pack
    ds = _dataset(data_root, lmdb='packs/train', on_error='raise')
    with pytest.raises(ImageLoadError) as info:
        ds[1]
    assert info.value.path == osp.join(data_root, 'train', bad[0])
    assert 'recorded as unreadable when the LMDB pack' in str(info.value)
    assert 'truncated' in str(info.value)
    ds = _dataset(data_root, lmdb='packs/train', on_error='resample')
    for idx, key in zip((1, 12), bad):
        sample = ds[idx]['data_samples']
        assert sample.gt_label.item() == int(key[:5])  # replaced within the class
        assert sample.bad_image_paths == [osp.join(data_root, 'train', key)]
    assert ds[0]['data_samples'].get('bad_image_paths') is None


class _WhoRead(torch.utils.data.Dataset):
    """Each item: the sample's image and which process (and LMDB environment) read it."""

    def __init__(self, dataset, pack_dir):
        self.dataset, self.pack_dir = dataset, osp.realpath(pack_dir)

    def __len__(self):
        return len(self.dataset)

    def __getitem__(self, idx):
        img = self.dataset[idx]['img']
        env_pid = lmdb_backend._ENVS[self.pack_dir][0]
        return idx, img, os.getpid(), env_pid


def test_dataloader_workers_forked_after_a_read_open_their_own_environment(packed_root):
    packed_root = packed_root[0]
    pack_dir = osp.join(packed_root, 'packs', 'train')
    ds = _dataset(packed_root, lmdb='packs/train', pipeline=[LOAD])
    expected = [ds[i]['img'] for i in range(len(ds))]  # the parent has read the pack
    assert lmdb_backend._ENVS[osp.realpath(pack_dir)][0] == os.getpid()
    loader = torch.utils.data.DataLoader(
        _WhoRead(ds, pack_dir), batch_size=None, num_workers=2,
        multiprocessing_context='fork')
    seen, readers = [], set()
    for idx, img, pid, env_pid in loader:
        assert np.array_equal(np.asarray(img), expected[idx])
        assert pid != os.getpid() and env_pid == pid  # the worker's own environment
        seen.append(idx)
        readers.add(pid)
    assert sorted(seen) == list(range(len(ds))) and len(readers) == 2


def _rank_reads(rank, world_size, data_root):
    import torch.distributed as dist
    ds = _dataset(data_root, lmdb='packs/train', pipeline=[LOAD])
    dist.barrier()  # every rank has the pack open before any reads
    sums = {i: int(ds[i]['img'].sum()) for i in range(rank, len(ds), world_size)}
    return sums, lmdb_backend._ENVS[osp.realpath(osp.join(data_root, 'packs', 'train'))][0]


def test_ranks_read_one_pack_concurrently(packed_root):
    from conftest import run_gloo_ranks
    packed_root, stored = packed_root
    results = run_gloo_ranks(_rank_reads, world_size=2, args=(packed_root, ))
    ds = _dataset(packed_root, lmdb='packs/train', pipeline=[LOAD])
    expected = {i: int(decode_image(stored['train'][osp.relpath(
        ds.get_data_info(i)['img_path'], osp.join(packed_root, 'train'))])[0].sum())
        for i in range(len(ds))}
    merged = {**results[0][0], **results[1][0]}
    assert merged == expected
    assert results[0][1] != results[1][1] != os.getpid()  # each rank opened its own
