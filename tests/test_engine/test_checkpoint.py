"""Checkpoints load with weights_only=True; crafted ones are refused without running."""
import os
import pickle
from collections import Counter, OrderedDict

import numpy as np
import pytest
import torch
from mmengine.logging.history_buffer import HistoryBuffer
from mmengine.runner.checkpoint import _load_checkpoint

from aliprod_plugins.engine import UnsafeCheckpointError, safe_load


def _mmengine_like_checkpoint() -> dict:
    buf = HistoryBuffer()
    for v in (0.5, 0.25, np.float64(0.125)):
        buf.update(v)
    return dict(
        meta=dict(epoch=3, iter=30, seed=np.int64(7), cfg='model = dict()',
                  dataset_meta=dict(classes=('00000', '00001'))),
        state_dict=OrderedDict(w=torch.arange(4.)),
        message_hub=dict(log_scalars={'train/loss': buf}, runtime_info={'epoch': 3},
                         resumed_keys={'epoch': True}),
        param_schedulers=[dict(milestones=Counter([10, 20]), gamma=0.1, last_step=3)],
    )


def test_mmengine_checkpoint_needs_the_allowlist(tmp_path):
    path = str(tmp_path / 'ckpt.pth')
    torch.save(_mmengine_like_checkpoint(), path)
    # Without our allowlist, torch's default weights_only loader refuses it...
    with pytest.raises(pickle.UnpicklingError, match='Unsupported global'):
        torch.load(path, weights_only=True)
    # ...with it, the checkpoint loads through MMEngine's own entry point.
    ckpt = _load_checkpoint(path, map_location='cpu')
    buf = ckpt['message_hub']['log_scalars']['train/loss']
    assert isinstance(buf, HistoryBuffer)
    assert buf.current() == pytest.approx(0.125)
    assert ckpt['meta']['seed'] == 7
    assert ckpt['param_schedulers'][0]['milestones'] == Counter([10, 20])
    assert torch.equal(ckpt['state_dict']['w'], torch.arange(4.))


class _Payload:

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f'touch {self.marker}', ))


def test_crafted_checkpoint_is_refused_and_never_runs(tmp_path):
    marker = tmp_path / 'payload_ran'
    path = str(tmp_path / 'evil.pth')
    torch.save(dict(state_dict=OrderedDict(), meta=_Payload(str(marker))), path)
    for load in (safe_load, _load_checkpoint):
        with pytest.raises(UnsafeCheckpointError) as info:
            load(path, map_location='cpu')
        # our sentence, naming the global (torch's own text, appended in brackets, names it
        # too: the match must be on ours)
        assert str(info.value).startswith(
            f'refusing to load checkpoint {path!r}: it references {os.system.__module__}.system '
            'which is not among the globals that MMEngine/MMPretrain checkpoints contain')
    assert not marker.exists()


def test_missing_checkpoint_names_the_file(tmp_path):
    path = str(tmp_path / 'nope.pth')
    with pytest.raises(FileNotFoundError, match='nope.pth'):
        safe_load(path)


class _GetattrPayload:
    """A ``getattr`` call, the form HistoryBuffer pickles use, aimed at another attribute."""

    def __init__(self, owner, name: str) -> None:
        self.owner, self.name = owner, name

    def __reduce__(self):
        return (getattr, (self.owner, self.name))


@pytest.mark.parametrize('owner,name', [(np.ndarray, 'tofile'),
                                        (HistoryBuffer, '_set_default_statistics')])
def test_getattr_is_only_allowed_for_history_buffer_methods(tmp_path, owner, name):
    path = str(tmp_path / 'evil_getattr.pth')
    torch.save(dict(meta=_GetattrPayload(owner, name)), path)
    with pytest.raises(pickle.UnpicklingError, match=name):
        safe_load(path)
