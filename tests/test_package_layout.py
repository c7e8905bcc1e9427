"""The package map: no submodule shadowed by a name, every package docstring lists its modules.

No package attribute that names a submodule is anything but that submodule.

``from .sample_rng import sample_rng`` in a package ``__init__`` rebinds the package's
attribute ``sample_rng`` (the submodule) to the function, so ``mock.patch('pkg.sample_rng.X')``
patches an attribute of the function instead of the module's global.
"""
import importlib
import pkgutil
import sys
import types

import pytest

import aliprod_plugins


def shadowed_submodules(package: types.ModuleType) -> list:
    """``'pkg.name -> type'`` for every submodule of ``package`` whose name is rebound."""
    found = []
    for info in pkgutil.walk_packages(package.__path__, package.__name__ + '.'):
        module = sys.modules.get(info.name) or importlib.import_module(info.name)
        parent_name, _, attr = info.name.rpartition('.')
        value = getattr(sys.modules[parent_name], attr, module)
        if value is not module:
            found.append(f'{info.name} -> {type(value).__name__}')
    return found


def test_no_submodule_is_shadowed_by_a_function():
    assert shadowed_submodules(aliprod_plugins) == []


def test_a_shadowed_submodule_is_found(tmp_path, monkeypatch):
    pkg = tmp_path / 'shadow_pkg'
    pkg.mkdir()
    (pkg / '__init__.py').write_text('from .helper import helper\n')
    (pkg / 'helper.py').write_text('def helper():\n    return 1\n')
    monkeypatch.syspath_prepend(str(tmp_path))
    module = importlib.import_module('shadow_pkg')
    try:
        assert shadowed_submodules(module) == ['shadow_pkg.helper -> function']
    finally:
        for name in ('shadow_pkg', 'shadow_pkg.helper'):
            sys.modules.pop(name, None)


@pytest.mark.parametrize('name', ['engine', 'hooks', 'models', 'samplers', 'evaluation', 'apis',
                                  'demo'])
def test_the_package_docstring_lists_every_module(name):
    package = importlib.import_module(f'aliprod_plugins.{name}')
    modules = [info.name for info in pkgutil.iter_modules(package.__path__)]
    unlisted = [m for m in modules if f'``{m}``' not in (package.__doc__ or '')]
    assert modules and not unlisted, f'aliprod_plugins.{name} docstring does not list {unlisted}'
