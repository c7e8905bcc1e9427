"""Expand the inputs of ``tools/infer.py``: image files, folders and lists of image paths."""
import os
import os.path as osp
import re
from typing import List, Sequence, Tuple

# the extensions MMPretrain's CustomDataset scans for, plus .webp / .gif
IMG_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.ppm', '.bmp', '.pgm', '.tif', '.tiff', '.webp',
                  '.gif')
LIST_EXTENSIONS = ('.txt', '.lst', '.list')
# the project's list format (MMPretrain / PaddleClas): "relative/path.jpg <label>"
_LABELLED = re.compile(r'(.*\S)[ \t]+\d+')


def collect_images(inputs: Sequence[str]) -> Tuple[List[str], List[str]]:
    """Expand ``inputs`` into image paths, in the order given.

    - a folder: every file with an image extension below it, recursively, sorted by path;
    - a ``.txt`` / ``.lst`` / ``.list`` file: one image path per line, or the annotation list
      format ``relative/path.jpg <label>`` (the label is dropped: a line ending in blanks and
      digits is read as path and label); blank lines and lines starting with ``#`` skipped;
      relative paths are relative to the list file's folder;
    - anything else (including a path that does not exist): one image, so that a missing or
      unreadable file gets its own row and error instead of being dropped.

    Args:
        inputs (Sequence[str]): Command-line inputs.

    Returns:
        tuple: ``(paths, notes)``: the image paths, and a note for each folder or list that
        held no image.
    """
    paths, notes = [], []
    for item in inputs:
        if osp.isdir(item):
            found = _scan_folder(item)
            if not found:
                notes.append(f'folder {item!r} holds no file with an image extension '
                             f'({", ".join(IMG_EXTENSIONS)})')
        elif osp.isfile(item) and item.lower().endswith(LIST_EXTENSIONS):
            found = _read_list(item)
            if not found:
                notes.append(f'list {item!r} names no image')
        else:
            found = [item]
        paths.extend(found)
    return paths, notes


def _scan_folder(folder: str) -> List[str]:
    found = []
    for root, dirs, files in os.walk(folder, followlinks=True):
        dirs.sort()
        found.extend(osp.join(root, name) for name in files
                     if name.lower().endswith(IMG_EXTENSIONS))
    return sorted(found)


def _read_list(list_file: str) -> List[str]:
    base = osp.dirname(list_file)
    with open(list_file, encoding='utf-8-sig') as f:
        lines = [line.strip() for line in f]
    paths = []
    for line in lines:
        if not line or line.startswith('#'):
            continue
        labelled = _LABELLED.fullmatch(line)
        path = labelled.group(1) if labelled else line
        paths.append(path if osp.isabs(path) else osp.join(base, path))
    return paths
