"""aliprod: long-tailed classification plugins for MMPretrain 1.x / MMEngine.

Importing this package (configs do, with ``custom_imports = dict(imports=['aliprod_plugins'],
allow_failed_imports=False)``) registers every component in MMPretrain's registries:

- ``DATASETS``: ``AliProductsDataset`` (:mod:`.datasets`);
- ``DATA_SAMPLERS``: ``InstanceBalancedSampler``, ``ClassBalancedSampler``,
  ``RebalancedSampler``, ``ProgressivelyBalancedSampler`` (:mod:`.samplers`);
- ``TRANSFORMS``: ``LoadImageScaled``, ``RandomResizedCropFlipPack`` (:mod:`.transforms`);
- ``METRICS``: ``LongTailAccuracy``, ``SubmissionWriter`` (:mod:`.evaluation`);
- ``MODELS``: ``BalancedSoftmaxLoss``, ``LWSHead``, ``NCMHead`` (:mod:`.models`);
- ``HOOKS``: ``StageSwitchHook``, ``BadImageHook``, ``MaxNormHook`` (:mod:`.hooks`),
  ``ClassPriorHook`` (:mod:`.models`), ``TrainCountsHook`` (:mod:`.evaluation`),
  ``AtomicCheckpointHook``, ``PreemptionHook``, ``LoopStateHook`` (:mod:`.engine`);
- ``LOOPS``: ``ResumableEpochBasedTrainLoop``; ``OPTIM_WRAPPERS``: ``FiniteOptimWrapper``,
  ``FiniteAmpOptimWrapper`` (:mod:`.engine`);
- MMEngine file backends: the atomic local backend (:mod:`.engine`) and ``aliprod_lmdb``
  for packs (:mod:`.fileio`).

It also adapts MMPretrain's inference API to our loader (:mod:`.apis`) and warns once when the
installed torch / mmengine / mmpretrain differ from those :mod:`.upstream` was written
against. Imported on use, not here: :mod:`.cli` (what the tools share), :mod:`.demo` (the
Digits-LT / Glyphs-LT builders), :mod:`.deploy` (ONNX), :mod:`.testing` (generated test data),
:mod:`.visualization` (TensorBoard), :mod:`.runs` (the step runner of the demo and the
benchmarks); helpers :mod:`.checks` (option checks) and
:mod:`.progress` (progress lines). The package map: ``docs/design.md``.
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
