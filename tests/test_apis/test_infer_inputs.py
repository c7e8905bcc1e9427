"""tools/infer.py's inputs: list files in the project's own ``path label`` format."""
import os.path as osp

from aliprod_plugins.apis import collect_images


def test_list_lines_with_labels_name_their_image(tmp_path):
    lst = tmp_path / 'val.txt'
    lst.write_text('\ufeffimages/a.jpg 3\n\nimages/two words.png\t12\n# note 4\n'
                   'images/b.jpg\n/abs/c.jpg 0\nimages/d 2.jpg\n', encoding='utf-8')
    paths, notes = collect_images([str(lst)])
    assert paths == [osp.join(str(tmp_path), 'images', 'a.jpg'),
                     osp.join(str(tmp_path), 'images', 'two words.png'),
                     osp.join(str(tmp_path), 'images', 'b.jpg'), '/abs/c.jpg',
                     osp.join(str(tmp_path), 'images', 'd 2.jpg')]
    assert notes == []
