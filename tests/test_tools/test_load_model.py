"""cli.load_model: get_model's build, strict weights, and only allowlisted globals unpickled."""
import os
import os.path as osp

import pytest
import torch
from conftest import REPO_ROOT
from mmengine.config import Config
from mmpretrain.apis import get_model
from mmpretrain.registry import MODELS

import aliprod_plugins  # noqa: F401  registration
from aliprod_plugins.cli import load_model
from aliprod_plugins.engine import UnsafeCheckpointError

CONFIG = osp.join(REPO_ROOT, 'configs', 'demo', 'digits_lt_stage1.py')


class MkdirOnLoad:
    """Unpickling this runs ``os.mkdir(path)``: a stand-in for a crafted payload."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self):
        return os.mkdir, (self.path, )


@pytest.fixture(scope='module')
def cfg_and_state():
    cfg = Config.fromfile(CONFIG)
    model_cfg = dict(cfg.model, data_preprocessor=cfg.data_preprocessor)
    state = MODELS.build(model_cfg).state_dict()
    state['head.fc.bias'] = torch.arange(state['head.fc.bias'].numel(), dtype=torch.float32)
    return cfg, state


def test_weights_and_the_configs_data_preprocessor(cfg_and_state, tmp_path):
    """The features must be those tools/test.py sees: normalised with the config's mean/std."""
    cfg, state = cfg_and_state
    ckpt = str(tmp_path / 'epoch_1.pth')
    torch.save({'state_dict': state, 'meta': {'epoch': 1}}, ckpt)
    model = load_model(cfg, ckpt, 'cpu')
    assert not model.training
    torch.testing.assert_close(model.head.fc.bias, torch.arange(10, dtype=torch.float32))
    torch.testing.assert_close(model.data_preprocessor.mean.flatten(),
                               torch.tensor(cfg.data_preprocessor.mean))
    torch.testing.assert_close(model.data_preprocessor.std.flatten(),
                               torch.tensor(cfg.data_preprocessor.std))
    assert model.data_preprocessor.to_rgb


def test_missing_weights_are_an_error(cfg_and_state, tmp_path):
    cfg, state = cfg_and_state
    ckpt = str(tmp_path / 'partial.pth')
    torch.save({'state_dict': {k: v for k, v in state.items() if k != 'head.fc.bias'}}, ckpt)
    with pytest.raises(RuntimeError, match='missing keys in source state_dict: head.fc.bias'):
        load_model(cfg, ckpt)
    with pytest.raises(FileNotFoundError, match="checkpoint 'nowhere.pth' can not be found"):
        load_model(cfg, 'nowhere.pth')


@pytest.mark.parametrize('loader', ['load_model', 'get_model'])
def test_a_pickled_payload_is_refused_before_it_runs(cfg_and_state, tmp_path, loader):
    """Both our path and MMPretrain's get_model(pretrained=...) load through the allowlist."""
    cfg, state = cfg_and_state
    ran = tmp_path / 'payload_ran'
    ckpt = str(tmp_path / 'crafted.pth')
    torch.save({'state_dict': state, 'meta': {'note': MkdirOnLoad(str(ran))}}, ckpt)
    with pytest.raises(UnsafeCheckpointError, match=r'references posix\.mkdir'):
        if loader == 'load_model':
            load_model(cfg, ckpt)
        else:
            get_model(cfg, pretrained=ckpt)
    assert not ran.exists()
