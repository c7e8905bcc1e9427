"""A folder with only ``<split>.txt``: the dataset needs nothing but ``data_root``."""
import os.path as osp

from aliprod_plugins.datasets import AliProductsDataset


def test_split_list_is_the_default_and_its_paths_are_relative_to_data_root(tmp_path):
    (tmp_path / 'imgs').mkdir()
    for name in ('a.jpg', 'b.jpg', 'c.jpg'):
        (tmp_path / 'imgs' / name).write_bytes(b'')
    (tmp_path / 'train.txt').write_text('imgs/a.jpg 1\nimgs/b.jpg 0\nimgs/c.jpg 1\n')
    ds = AliProductsDataset(data_root=str(tmp_path), split='train', num_classes=2)
    assert ds.ann_format == 'list' and ds.ann_file == osp.join(str(tmp_path), 'train.txt')
    assert [ds.get_data_info(i)['img_path'] for i in range(3)] == [
        osp.join(str(tmp_path), 'imgs', n) for n in ('a.jpg', 'b.jpg', 'c.jpg')]
    assert ds.class_counts.tolist() == [1, 2]
    # with train.json beside it, the released layout wins: <split>.json, images under <split>/
    (tmp_path / 'train.json').write_text('{"images": [{"class_id": "00001", "image_id": "a.jpg"}]}')
    (tmp_path / 'train' / '00001').mkdir(parents=True)
    (tmp_path / 'train' / '00001' / 'a.jpg').write_bytes(b'')
    ds = AliProductsDataset(data_root=str(tmp_path), split='train', num_classes=2)
    assert ds.ann_format == 'json'
    assert ds.get_data_info(0)['img_path'] == osp.join(str(tmp_path), 'train', '00001', 'a.jpg')
