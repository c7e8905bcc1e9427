"""docs/design.md's package map says what each folder of aliprod_plugins imports of ours.

The imports are read from the code (``ast``: every ``from .x`` / ``from ..x`` /
``aliprod_plugins.x`` import, inside functions too) and compared with the table's last column,
so a new import between folders fails here until the map says so.
"""
import ast
import os
import os.path as osp
import re
from typing import Dict, Set

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
PKG = osp.join(REPO, 'aliprod_plugins')


def _top(path: str) -> str:
    """The folder (or top-level module) of the package a file belongs to."""
    parts = osp.relpath(path, PKG).split(os.sep)
    return parts[0] if len(parts) > 1 else parts[0][:-3]


def imports_of_code() -> Dict[str, Set[str]]:
    """``{folder: folders and top-level modules of ours it imports}``, from the source."""
    found: Dict[str, Set[str]] = {}
    for root, _, files in os.walk(PKG):
        for name in files:
            if not name.endswith('.py'):
                continue
            path = osp.join(root, name)
            src_top, depth = _top(path), len(osp.relpath(path, PKG).split(os.sep)) - 1
            with open(path, encoding='utf-8') as f:
                tree = ast.parse(f.read())
            for node in ast.walk(tree):
                targets = []
                if isinstance(node, ast.ImportFrom) and node.level:
                    if node.level <= depth:  # within its own folder
                        continue
                    targets = [node.module.split('.')[0]] if node.module else \
                        [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom) and (node.module or '').startswith(
                        'aliprod_plugins'):
                    mod = node.module.split('.')
                    targets = [mod[1]] if len(mod) > 1 else [a.name for a in node.names]
                elif isinstance(node, ast.Import):
                    targets = [a.name.split('.')[1] for a in node.names
                               if a.name.startswith('aliprod_plugins.')]
                found.setdefault(src_top, set()).update(t for t in targets if t != src_top)
    return found


def imports_in_map() -> Dict[str, Set[str]]:
    """``{folder: names in the table's last column}`` for the rows naming one folder."""
    with open(osp.join(REPO, 'docs', 'design.md'), encoding='utf-8') as f:
        rows = re.findall(r'^\| `(\w+)/` \|.*\| ([^|]*) \|$', f.read(), re.M)
    return {folder: set(re.findall(r'`(\w+)`', last)) for folder, last in rows}


def test_the_map_reads_the_table():
    table = imports_in_map()
    assert table['engine'] == {'checks', 'upstream'} and table['testing'] == set()
    assert len(table) >= 14


def test_package_map_matches_the_code():
    code, table = imports_of_code(), imports_in_map()
    folders = sorted(d for d in os.listdir(PKG) if osp.isfile(osp.join(PKG, d, '__init__.py')))
    problems = [f'{folder}/: not in the table of docs/design.md' for folder in folders
                if folder not in table]
    problems += [f'{folder}/: the code imports {sorted(code.get(folder, set()))}, the map says '
                 f'{sorted(table[folder])}' for folder in folders
                 if folder in table and code.get(folder, set()) != table[folder]]
    assert not problems, 'docs/design.md package map out of date:\n' + '\n'.join(problems)
