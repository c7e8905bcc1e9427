"""Package docstrings list what the package holds (issue 23, point 4).

Each subpackage's ``__init__.py`` names every module of its folder as ``:mod:`.name```, and
``aliprod_plugins/__init__.py`` names every subpackage and top-level module, and every class
registered in an MMEngine / MMPretrain registry. A module added without a line in its
package's docstring fails here, naming both. Read from the source (``ast``), nothing imported.
"""
import ast
import os
import os.path as osp
import re

import pytest

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
PKG = osp.join(REPO, 'aliprod_plugins')
# engine/__init__.py's docstring is rewritten on another branch of issue 23 (helper B1); the
# lead removes this exclusion when merging it
NOT_YET: set = set()
SUBPACKAGES = sorted(d for d in os.listdir(PKG) if osp.isfile(osp.join(PKG, d, '__init__.py')))


def _docstring(path: str) -> str:
    with open(path, encoding='utf-8') as f:
        return ast.get_docstring(ast.parse(f.read())) or ''


def _modules(folder: str) -> list:
    return sorted(n[:-3] for n in os.listdir(folder)
                  if n.endswith('.py') and n not in ('__init__.py', 'version.py', '_warnings.py'))


def _named(doc: str, name: str) -> bool:
    return re.search(rf"(:mod:`\.{re.escape(name)}`|``{re.escape(name)}``)", doc) is not None


@pytest.mark.parametrize('package', [p for p in SUBPACKAGES if p not in NOT_YET])
def test_subpackage_docstring_names_every_module(package):
    doc = _docstring(osp.join(PKG, package, '__init__.py'))
    missing = [m for m in _modules(osp.join(PKG, package)) if not _named(doc, m)]
    assert not missing, (f'aliprod_plugins/{package}/__init__.py: its docstring does not name '
                         f'{missing} (expected a line with :mod:`.name` for each module)')


def test_top_docstring_names_every_subpackage_module_and_registered_class():
    doc = _docstring(osp.join(PKG, '__init__.py'))
    missing = [n for n in SUBPACKAGES + _modules(PKG) if not _named(doc, n)]
    registered = set()
    for root, _, files in os.walk(PKG):
        for name in files:
            if name.endswith('.py'):
                with open(osp.join(root, name), encoding='utf-8') as f:
                    tree = ast.parse(f.read())
                registered |= {
                    node.name for node in ast.walk(tree) if isinstance(node, ast.ClassDef)
                    and any('register_module' in ast.unparse(d) for d in node.decorator_list)}
    assert len(registered) >= 20  # known in advance: 23 registered classes at issue 23
    missing += sorted(c for c in registered if f'``{c}``' not in doc)
    assert not missing, f'aliprod_plugins/__init__.py: its docstring does not name {missing}'
