"""aliprod: long-tailed classification plugins for MMPretrain 1.x / MMEngine.

Importing this package registers every component in MMPretrain's registries
(``DATASETS``, ``DATA_SAMPLERS``, ``HOOKS``, ``METRICS``, ``TRANSFORMS``). Configs load it with
``custom_imports = dict(imports=['aliprod_plugins'], allow_failed_imports=False)``.
"""
from . import engine  # noqa: F401  (safe checkpoint loading, CPU distributed launch)
from . import datasets, evaluation, hooks, samplers, transforms  # noqa: F401  registration only
from .version import __version__

__all__ = ['__version__']
