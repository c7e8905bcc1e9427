"""aliprod: long-tailed classification plugins for MMPretrain 1.x / MMEngine.

Importing this package registers every component in MMPretrain's registries
(``DATASETS``, ``DATA_SAMPLERS``, ``HOOKS``, ``METRICS``, ``TRANSFORMS``). Configs load it with
``custom_imports = dict(imports=['aliprod_plugins'], allow_failed_imports=False)``.
"""
from . import _warnings  # noqa: F401  (first, before mmcv is imported: one warning off)
from . import upstream  # noqa: F401  (warns once if mmengine / mmpretrain / torch differ)
from . import engine  # noqa: F401  (safe checkpoint loading, CPU distributed launch)
from . import datasets, evaluation, hooks, samplers, transforms  # noqa: F401  registration only
from . import fileio  # noqa: F401  (LMDB packs: the 'aliprod_lmdb' file backend)
from . import apis  # noqa: F401  (MMPretrain's inferencer reads paths with our loader)
from . import models  # noqa: F401  registration only (losses, heads, ClassPriorHook)
from .version import __version__

upstream.check_versions()

__all__ = ['__version__']
