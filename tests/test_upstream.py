"""Upstream guard: fingerprints of upstream code we re-implement, versions, private reads."""
import re
import warnings
from pathlib import Path
from types import SimpleNamespace

import pytest

from aliprod_plugins import upstream
from aliprod_plugins.models.class_prior_hook import ClassPriorHook

PACKAGE = Path(upstream.__file__).parent


def test_upstream_sources_are_the_ones_our_code_was_written_against():
    changed = upstream.changed_uses()
    assert not changed, ('upstream code we patch, re-implement or read privately changed; '
                         're-check our code, then refresh upstream.FINGERPRINTS:\n'
                         + '\n'.join(changed))


def test_every_use_is_fingerprinted_and_resolves_to_upstream_code():
    assert set(upstream.FINGERPRINTS) == {use.symbol for use in upstream.USES}
    for use in upstream.USES:
        target = upstream.resolve(use.original or use.symbol)
        assert not target.__module__.startswith('aliprod_plugins'), use.symbol  # not our patch
        assert use.ours.startswith('aliprod_plugins/'), use


def test_a_changed_source_names_our_code_to_recheck(monkeypatch):
    symbol = 'mmengine.optim.AmpOptimWrapper.step'
    monkeypatch.setitem(upstream.FINGERPRINTS, symbol, '0' * 16)
    assert upstream.changed_uses() == [
        'mmengine.optim.AmpOptimWrapper.step (re-implemented) changed: re-check '
        'aliprod_plugins/engine/finite_optim_wrapper.py FiniteAmpOptimWrapper.step']


def test_other_versions_warn_once_naming_them(monkeypatch):
    monkeypatch.setitem(upstream.WRITTEN_AGAINST, 'mmengine', '0.9.0')
    monkeypatch.setattr(upstream, '_warned', False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.resetwarnings()  # independent of PYTHONWARNINGS / -W
        warnings.simplefilter('always')
        assert upstream.check_versions() == ['mmengine']
        assert upstream.check_versions() == ['mmengine']
    assert len(caught) == 1
    assert issubclass(caught[0].category, upstream.UpstreamVersionWarning)
    assert 'mmengine 0.9.0 (installed: 0.10.7)' in str(caught[0].message)
    assert 'torch 2.14.1,' in str(caught[0].message)  # matching versions named as they are


def test_the_pinned_versions_do_not_warn(monkeypatch):
    monkeypatch.setattr(upstream, '_warned', False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.resetwarnings()
        warnings.simplefilter('always')
        assert upstream.check_versions() == []
    assert caught == []


def test_a_missing_private_attribute_is_an_error_naming_it():
    with pytest.raises(upstream.UpstreamChanged, match=r"types.SimpleNamespace has no attribute "
                       r"'_resume'.*written against torch 2\.14\.1, mmengine 0\.10\.7"):
        upstream.private_attr(SimpleNamespace(), '_resume')
    assert upstream.private_attr(SimpleNamespace(_resume=False), '_resume') is False


def test_class_prior_hook_does_not_default_a_renamed_resume_flag():
    checkpoint = {'meta': {'class_prior': {'counts': [3, 1]}}}
    hook = ClassPriorHook()
    with pytest.raises(upstream.UpstreamChanged, match="'_resume'"):
        hook.after_load_checkpoint(SimpleNamespace(resumed=True), checkpoint)
    hook.after_load_checkpoint(SimpleNamespace(_resume=True), checkpoint)
    assert hook._restored.tolist() == [3, 1]


def test_no_private_upstream_attribute_is_read_with_a_silent_default():
    pattern = re.compile(r"getattr\((?!self\b|cls\b)([\w.]+), *'_[a-z]\w*' *,")
    allowed = {('engine/checkpoint.py', 'np')}  # numpy 2's _core, numpy 1's core: both handled
    found = []
    for path in sorted(PACKAGE.rglob('*.py')) + sorted((PACKAGE.parent / 'tools').rglob('*.py')):
        for match in pattern.finditer(path.read_text()):
            rel = path.relative_to(PACKAGE).as_posix() if PACKAGE in path.parents else str(path)
            if (rel, match.group(1)) not in allowed:
                found.append(f'{rel}: {match.group(0)}')
    assert not found, 'use aliprod_plugins.upstream.private_attr:\n' + '\n'.join(found)


def test_the_code_each_use_names_exists():
    """``ours`` names files and their functions; a moved function must be renamed there too."""
    missing = []
    for use in upstream.USES:
        for part in use.ours.split(';'):
            path, _, names = part.strip().partition(' ')
            source = (PACKAGE.parent / path).read_text() if (PACKAGE.parent / path).is_file() \
                else ''
            for name in re.findall(r'[\w.]+', names) or ['']:
                if not source or not re.search(rf'\b(def|class) {name.split(".")[-1]}\b',
                                               source):
                    missing.append(f'{use.symbol}: {path} {name}')
    assert not missing, 'upstream.USES names code that is not there:\n' + '\n'.join(missing)
