"""Upstream code we patch, re-implement or read privately, and the versions it was written for.

Our plugins lean on code of MMEngine, MMPretrain and torch that is not a public contract: a
method re-implemented in a subclass (a fix in upstream's copy would not reach ours), a function
replaced, a private attribute read or written. Each use is listed below with the code of ours
to re-check when upstream changes. Importing ``aliprod_plugins`` warns once when an installed
version differs from :data:`WRITTEN_AGAINST`; ``tests/test_upstream.py`` fingerprints the
source of every listed upstream symbol (:data:`FINGERPRINTS`) and fails, naming our code to
re-check, when one changes. After re-checking, refresh the fingerprints with::

    python -c "from aliprod_plugins import upstream; upstream.print_fingerprints()"

Private attributes are read through :func:`private_attr`, never with a silent default.
"""
import hashlib
import importlib
import inspect
import warnings
from importlib import metadata
from typing import Any, Callable, Dict, List, NamedTuple

#: the versions the listed uses were written and fingerprinted against (setup.cfg's pins)
WRITTEN_AGAINST: Dict[str, str] = {'torch': '2.14.1', 'mmengine': '0.10.7',
                                   'mmpretrain': '1.2.0'}


class Use(NamedTuple):
    """One upstream symbol we depend on beyond its public contract."""
    symbol: str  # dotted path of the upstream function / method whose source is fingerprinted
    how: str  # what we do with it
    ours: str  # our code to re-check when it changes
    original: str = ''  # where we keep upstream's function when we replace it in place


USES: List[Use] = [
    Use('mmengine.hooks.CheckpointHook._save_checkpoint_with_step', 're-implemented (reordered)',
        'aliprod_plugins/engine/checkpoint_hook.py '
        'AtomicCheckpointHook._save_checkpoint_with_step'),
    Use('mmengine.hooks.CheckpointHook._save_best_checkpoint', 'wrapped: deletes through '
        'file_backend.remove/rmtree', 'aliprod_plugins/engine/checkpoint_hook.py '
        'AtomicCheckpointHook._save_best_checkpoint, _deferred_removal, _best_paths'),
    Use('mmengine.hooks.CheckpointHook.before_train', 'wrapped (backend_args chosen first)',
        'aliprod_plugins/engine/checkpoint_hook.py AtomicCheckpointHook.before_train'),
    Use('mmengine.fileio.io._parse_uri_prefix', 'private function imported',
        'aliprod_plugins/engine/checkpoint_hook.py AtomicCheckpointHook.before_train'),
    Use('mmengine.runner.EpochBasedTrainLoop.run', 're-implemented',
        'aliprod_plugins/engine/resumable_loop.py ResumableEpochBasedTrainLoop.run'),
    Use('mmengine.runner.EpochBasedTrainLoop.run_epoch', 're-implemented',
        'aliprod_plugins/engine/resumable_loop.py ResumableEpochBasedTrainLoop.run_epoch'),
    Use('mmengine.runner.Runner.__init__', 'private attributes read: runner._resume, '
        '_train_loop, _val_loop, _test_loop', 'aliprod_plugins/engine/resumable_loop.py '
        'LoopStateHook; aliprod_plugins/models/class_prior_hook.py; aliprod_plugins/evaluation/'
        'train_counts_hook.py; aliprod_plugins/engine/loader_workers.py'),
    Use('mmengine.runner.Runner.build_dataloader', 'relies on its deepcopy of the cfg',
        'aliprod_plugins/hooks/stage_switch_sampler.py not_deep_copied'),
    Use('mmengine.optim.AmpOptimWrapper.step', 're-implemented',
        'aliprod_plugins/engine/finite_optim_wrapper.py FiniteAmpOptimWrapper.step'),
    Use('mmengine.optim.OptimWrapper._clip_grad', 'private method called',
        'aliprod_plugins/engine/finite_optim_wrapper.py FiniteAmpOptimWrapper.step'),
    Use('mmengine.optim.scheduler.param_scheduler._ParamScheduler.step',
        'scheduler.end set to begin to stop it',
        'aliprod_plugins/hooks/stage_switch_utils.py set_stage2_lr'),
    Use('mmengine.model.BaseModule.init_weights', 'module._is_init reset to re-initialise',
        'aliprod_plugins/hooks/stage_switch_utils.py reinit_head'),
    Use('mmengine.runner.checkpoint.load_from_local', 'replaced (CheckpointLoader scheme \'\')',
        'aliprod_plugins/engine/checkpoint.py load_from_local, safe_load'),
    Use('mmengine.logging.HistoryBuffer.__getstate__', 'its pickled form is allowlisted',
        'aliprod_plugins/engine/checkpoint.py checkpoint_safe_globals'),
    Use('mmengine.fileio.LocalBackend.put', 'overridden (atomic)',
        'aliprod_plugins/engine/atomic_io.py AtomicLocalBackend.put'),
    Use('mmengine.fileio.LocalBackend.put_text', 'overridden (atomic)',
        'aliprod_plugins/engine/atomic_io.py AtomicLocalBackend.put_text'),
    Use('mmengine.fileio.LmdbBackend.get', 'overridden',
        'aliprod_plugins/fileio/lmdb_backend.py PackLmdbBackend.get'),
    Use('mmengine.fileio.LmdbBackend._get_client', 'private method overridden',
        'aliprod_plugins/fileio/lmdb_backend.py PackLmdbBackend._get_client'),
    Use('mmengine.dataset.BaseDataset.full_init', 'overridden (sets _fully_initialized)',
        'aliprod_plugins/datasets/aliproducts.py AliProductsDataset.full_init'),
    Use('mmpretrain.apis.ImageClassificationInferencer.preprocess', 'patched',
        'aliprod_plugins/apis/mmpretrain_compat.py _preprocess',
        original='aliprod_plugins.apis.mmpretrain_compat._STOCK_PREPROCESS'),
    Use('mmengine.infer.BaseInferencer._get_chunk_data', 'private method called',
        'aliprod_plugins/apis/mmpretrain_compat.py _preprocess'),
    Use('mmpretrain.apis.model.get_model', 'model._metainfo made a property; '
        'model._dataset_meta read', 'aliprod_plugins/apis/mmpretrain_compat.py install; '
        'aliprod_plugins/apis/predictor.py Predictor.__init__'),
    Use('mmpretrain.apis.model.inference_model', 'reads model._metainfo',
        'aliprod_plugins/apis/mmpretrain_compat.py _get_metainfo'),
    Use('torch.amp.GradScaler._found_inf_per_device', 'private method called',
        'aliprod_plugins/engine/finite_optim_wrapper.py _scaler_found_inf'),
    Use('torch.utils.data.DataLoader.__iter__', 'private dataloader._iterator reset',
        'aliprod_plugins/engine/loader_workers.py shutdown_workers'),
    Use('torch.utils.data.dataloader._MultiProcessingDataLoaderIter._shutdown_workers',
        'private method called', 'aliprod_plugins/engine/loader_workers.py shutdown_workers'),
]

#: sha256 (first 16 hex digits) of ``inspect.getsource`` of each symbol at WRITTEN_AGAINST
FINGERPRINTS: Dict[str, str] = {
    'mmengine.hooks.CheckpointHook._save_checkpoint_with_step':
        'cdbc1b54c7c88d95',
    'mmengine.hooks.CheckpointHook._save_best_checkpoint':
        '8e1e477297ea08d7',
    'mmengine.hooks.CheckpointHook.before_train':
        '88570c95d1e437f5',
    'mmengine.fileio.io._parse_uri_prefix':
        '46f5a12bf1cae06d',
    'mmengine.runner.EpochBasedTrainLoop.run':
        '51ae20508b4d459f',
    'mmengine.runner.EpochBasedTrainLoop.run_epoch':
        '5a9b993c3e9727d4',
    'mmengine.runner.Runner.__init__':
        'cad02923a964ffc4',
    'mmengine.runner.Runner.build_dataloader':
        '5ba55eedc45e4f5f',
    'mmengine.optim.AmpOptimWrapper.step':
        '6d2ca436150c75e0',
    'mmengine.optim.OptimWrapper._clip_grad':
        'a3d132f6d5e8116f',
    'mmengine.optim.scheduler.param_scheduler._ParamScheduler.step':
        '797e57236f99e86d',
    'mmengine.model.BaseModule.init_weights':
        'dd770da52b35e5fb',
    'mmengine.runner.checkpoint.load_from_local':
        'aa24a2a99a65f3f6',
    'mmengine.logging.HistoryBuffer.__getstate__':
        '1d06f3429c0e4a98',
    'mmengine.fileio.LocalBackend.put':
        '4106dd5908d61558',
    'mmengine.fileio.LocalBackend.put_text':
        '0cd7d1beb389b002',
    'mmengine.fileio.LmdbBackend.get':
        '48dde45b1665526b',
    'mmengine.fileio.LmdbBackend._get_client':
        'c5a1a3937cf1caa4',
    'mmengine.dataset.BaseDataset.full_init':
        '468830c91b078257',
    'mmpretrain.apis.ImageClassificationInferencer.preprocess':
        'ab1b86f5c48f77ba',
    'mmengine.infer.BaseInferencer._get_chunk_data':
        'c03915fee6aaac39',
    'mmpretrain.apis.model.get_model':
        'e9883f2da6d41d8a',
    'mmpretrain.apis.model.inference_model':
        'a5fc40f5e024613f',
    'torch.amp.GradScaler._found_inf_per_device':
        'cace4fa9489b392e',
    'torch.utils.data.DataLoader.__iter__':
        'd4b219cd211f60a7',
    'torch.utils.data.dataloader._MultiProcessingDataLoaderIter._shutdown_workers':
        '1a44f4e0add54a25',
}


class UpstreamChanged(RuntimeError):
    """Upstream code we rely on is not what it was written against."""


class UpstreamVersionWarning(UserWarning):
    """An installed mmengine / mmpretrain / torch differs from :data:`WRITTEN_AGAINST`."""


def installed_versions() -> Dict[str, str]:
    """``{package: installed version}`` (local tags such as ``+cu130`` removed)."""
    found = {}
    for name in WRITTEN_AGAINST:
        try:
            found[name] = metadata.version(name).split('+')[0]
        except metadata.PackageNotFoundError:
            found[name] = 'not installed'
    return found


def _versions_text() -> str:
    got = installed_versions()
    return ', '.join(f'{name} {WRITTEN_AGAINST[name]}' + (
        f' (installed: {got[name]})' if got[name] != WRITTEN_AGAINST[name] else '')
        for name in WRITTEN_AGAINST)


_warned = False


def check_versions() -> List[str]:
    """Warn once per process when an installed version differs; return the differing names."""
    global _warned
    got = installed_versions()
    differ = [name for name, version in WRITTEN_AGAINST.items() if got[name] != version]
    if differ and not _warned:
        _warned = True
        warnings.warn(
            f'aliprod_plugins was written against {_versions_text()}: '
            f'{len(USES)} upstream functions it patches, re-implements or reads privately '
            '(listed in aliprod_plugins/upstream.py) may have changed; run '
            'tests/test_upstream.py to see which', UpstreamVersionWarning, stacklevel=2)
    return differ


def private_attr(obj: Any, name: str) -> Any:
    """``getattr(obj, name)`` for a private upstream attribute, failing loudly when it is gone.

    Raises:
        UpstreamChanged: ``obj`` has no ``name``, naming both and the versions we expect.
    """
    try:
        return getattr(obj, name)
    except AttributeError:
        raise UpstreamChanged(
            f'{type(obj).__module__}.{type(obj).__qualname__} has no attribute {name!r}, '
            f'which aliprod_plugins reads (see aliprod_plugins/upstream.py); it was written '
            f'against {_versions_text()}') from None


def resolve(symbol: str) -> Callable:
    """Import ``symbol`` (``package.module.Class.method``)."""
    parts = symbol.split('.')
    for cut in range(len(parts) - 1, 0, -1):
        try:
            obj = importlib.import_module('.'.join(parts[:cut]))
        except ImportError:
            continue
        for part in parts[cut:]:
            obj = getattr(obj, part)
        return obj
    raise ImportError(f'cannot import {symbol!r}')


def fingerprint(symbol: str) -> str:
    """sha256 (16 hex digits) of the source of ``symbol`` (upstream's, where we patched it)."""
    original = {use.symbol: use.original for use in USES}.get(symbol)
    source = inspect.getsource(resolve(original or symbol))
    return hashlib.sha256(source.encode('utf-8')).hexdigest()[:16]


def changed_uses() -> List[str]:
    """One line per listed symbol whose source no longer matches, naming our code to re-check."""
    lines = []
    for use in USES:
        try:
            now = fingerprint(use.symbol)
        except (ImportError, AttributeError, OSError, TypeError) as err:
            now = f'unavailable ({type(err).__name__}: {err})'
        if now != FINGERPRINTS.get(use.symbol):
            lines.append(f'{use.symbol} ({use.how}) changed: re-check {use.ours}')
    return lines


def print_fingerprints() -> None:
    """Print :data:`FINGERPRINTS` for the installed versions (after re-checking our code)."""
    print('FINGERPRINTS: Dict[str, str] = {')
    for use in USES:
        print(f"    '{use.symbol}':\n        '{fingerprint(use.symbol)}',")
    print('}')
