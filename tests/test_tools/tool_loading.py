"""A tool of ``tools/`` as a module, so that a test runs its ``main(argv)`` or a function of it
in this process (``spec_from_file_location``: tools are scripts, not a package)."""
import importlib.util
import os.path as osp
from types import ModuleType

from conftest import REPO_ROOT


def load_tool_module(name: str) -> ModuleType:
    """``tools/<name>.py`` executed as the module ``aliprod_tools_<name>``.

    Args:
        name (str): The tool's file name without ``.py``, e.g. ``'infer'``.

    Returns:
        ModuleType: A fresh module (not put in ``sys.modules``).
    """
    spec = importlib.util.spec_from_file_location(f'aliprod_tools_{name}',
                                                  osp.join(REPO_ROOT, 'tools', f'{name}.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
