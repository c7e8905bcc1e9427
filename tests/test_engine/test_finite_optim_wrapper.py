"""Non-finite steps are skipped (weights and momentum untouched), counted, and stop a run."""
import math
from contextlib import contextmanager

import pytest
import torch
from conftest import run_gloo_ranks
from mmengine.hooks import Hook
from mmengine.logging import MessageHub
from mmengine.optim.optimizer import amp_optimizer_wrapper
from toy_runner import toy_runner

from aliprod_plugins.engine import FiniteAmpOptimWrapper, FiniteOptimWrapper, NonFiniteLossError


@pytest.fixture
def hub(request):
    hub = MessageHub.get_instance(f'finite_{request.node.nodeid}')  # a fresh hub per test
    MessageHub._instance_dict.move_to_end(hub.instance_name)  # make it the current one
    return hub


def _model():
    torch.manual_seed(0)
    return torch.nn.Linear(3, 1)


def _loss(model, scale=1.0):
    x = torch.tensor([[1.0, 2.0, -1.0], [0.5, -0.5, 2.0]])
    return (model(x)**2).mean() * scale


def _state(model, wrapper):
    params = [p.detach().clone() for p in model.parameters()]
    momentum = [wrapper.optimizer.state[p]['momentum_buffer'].clone()
                for p in model.parameters()]
    return params, momentum


def _same(a, b) -> bool:
    return all(torch.equal(x, y) for x, y in zip(a[0] + a[1], b[0] + b[1]))


@contextmanager
def _infinite_grad(param):
    """Backward passes give ``param`` an infinite gradient (the loss stays finite)."""
    handle = param.register_hook(lambda grad: torch.full_like(grad, float('inf')))
    try:
        yield
    finally:
        handle.remove()


def _scalar(hub, key):
    return hub.log_scalars[f'train/{key}'].current()


def test_nonfinite_loss_or_grad_skips_the_step_and_is_counted(hub):
    model = _model()
    wrapper = FiniteOptimWrapper(
        optimizer=torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-2))
    wrapper.update_params(_loss(model))  # a good step creates the momentum buffers
    before = _state(model, wrapper)
    assert _scalar(hub, 'nonfinite_steps') == 0

    wrapper.update_params(_loss(model, scale=float('nan')))
    assert _same(before, _state(model, wrapper))  # weights, momentum, weight decay: untouched
    assert _scalar(hub, 'nonfinite_steps') == 1
    assert all(p.grad is None or not p.grad.any() for p in model.parameters())  # zeroed

    with _infinite_grad(model.weight):  # finite loss, infinite gradient
        wrapper.update_params(_loss(model))
    assert _same(before, _state(model, wrapper))
    assert _scalar(hub, 'nonfinite_steps') == 2 and wrapper.consecutive_nonfinite == 2

    wrapper.update_params(_loss(model))
    assert not _same(before, _state(model, wrapper))
    assert wrapper.consecutive_nonfinite == 0 and _scalar(hub, 'nonfinite_steps') == 2


def test_consecutive_nonfinite_steps_stop_naming_iteration_and_last_checkpoint(hub, tmp_path):
    with open(tmp_path / 'last_checkpoint', 'w') as f:
        f.write(str(tmp_path / 'epoch_7.pth'))
    hub.update_info('work_dir', str(tmp_path))
    model = _model()
    wrapper = FiniteOptimWrapper(max_consecutive_nonfinite=3,
                                 optimizer=torch.optim.SGD(model.parameters(), lr=0.1))
    for it in range(40, 42):
        hub.update_info('iter', it)
        wrapper.update_params(_loss(model, scale=float('inf')))
    hub.update_info('iter', 42)
    with pytest.raises(NonFiniteLossError) as info:
        wrapper.update_params(_loss(model, scale=float('inf')))
    msg = str(info.value)
    assert 'loss is non-finite' in msg
    assert 'iteration 43' in msg and 'iterations 41-43' in msg
    assert str(tmp_path / 'epoch_7.pth') in msg
    with pytest.raises(ValueError, match='max_consecutive_nonfinite expected an int >= 1'):
        FiniteOptimWrapper(max_consecutive_nonfinite=0,
                           optimizer=torch.optim.SGD(model.parameters(), lr=0.1))


def test_the_count_continues_after_resume(hub):
    hub.update_scalar('train/nonfinite_steps', 5)  # as restored from a checkpoint
    model = _model()
    wrapper = FiniteOptimWrapper(optimizer=torch.optim.SGD(model.parameters(), lr=0.1))
    wrapper.update_params(_loss(model, scale=float('nan')))
    assert _scalar(hub, 'nonfinite_steps') == 6


def _rank_skips(rank: int, world_size: int) -> list:
    hub = MessageHub.get_instance(f'gloo_rank{rank}')
    MessageHub._instance_dict.move_to_end(hub.instance_name)
    model = _model()
    wrapper = FiniteOptimWrapper(optimizer=torch.optim.SGD(model.parameters(), lr=0.1))
    before = [p.detach().clone() for p in model.parameters()]
    # no DDP: the gradients stay per rank, only rank 1's loss is NaN
    wrapper.update_params(_loss(model, scale=float('nan') if rank == 1 else 1.0))
    unchanged = all(torch.equal(a, b) for a, b in zip(before, model.parameters()))
    return [unchanged, wrapper.nonfinite_steps]


def test_all_ranks_skip_when_one_rank_has_a_nonfinite_loss():
    assert run_gloo_ranks(_rank_skips, world_size=2) == {0: [True, 1], 1: [True, 1]}


@pytest.fixture
def amp_wrapper(hub, monkeypatch):
    """FiniteAmpOptimWrapper on CPU with a real (CPU) dynamic GradScaler."""
    monkeypatch.setattr(amp_optimizer_wrapper, 'is_cuda_available', lambda: True)
    model = _model()
    wrapper = FiniteAmpOptimWrapper(
        optimizer=torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9))
    wrapper.loss_scaler = torch.amp.GradScaler('cpu', init_scale=2.0**16)
    return model, wrapper


def test_fp16_scaler_overflow_is_counted_apart_and_a_nan_loss_as_failure(amp_wrapper, hub):
    model, wrapper = amp_wrapper
    wrapper.update_params(_loss(model))
    before = _state(model, wrapper)
    scale = wrapper.loss_scaler.get_scale()

    # finite loss whose scaled gradients overflow fp32: the scaler's business, not a failure
    wrapper.update_params(_loss(model, scale=1e36))
    assert _same(before, _state(model, wrapper))
    assert wrapper.loss_scaler.get_scale() == scale / 2  # the scaler backed off
    assert _scalar(hub, 'overflow_steps') == 1 and _scalar(hub, 'nonfinite_steps') == 0
    assert wrapper.consecutive_nonfinite == 0

    wrapper.update_params(_loss(model, scale=float('nan')))
    assert _same(before, _state(model, wrapper))
    assert _scalar(hub, 'nonfinite_steps') == 1 and _scalar(hub, 'overflow_steps') == 1
    assert wrapper.loss_scaler.get_scale() == scale / 2  # untouched by a skipped failure

    wrapper.update_params(_loss(model))
    assert not _same(before, _state(model, wrapper))
    assert wrapper.consecutive_nonfinite == 0 and _scalar(hub, 'overflow_steps') == 1


def test_overflows_are_detected_with_a_static_loss_scale(amp_wrapper, hub):
    model, wrapper = amp_wrapper
    wrapper._scale_update_param = 1024.0  # loss_scale=1024.0: the scale never backs off
    wrapper.loss_scaler = torch.amp.GradScaler('cpu', init_scale=1024.0)
    wrapper.update_params(_loss(model, scale=1e37))
    assert _scalar(hub, 'overflow_steps') == 1


def test_without_an_active_scaler_gradients_are_checked_as_in_fp32(amp_wrapper, hub):
    model, wrapper = amp_wrapper
    wrapper.loss_scaler = torch.amp.GradScaler('cpu', enabled=False)
    before = [p.detach().clone() for p in model.parameters()]
    with _infinite_grad(model.weight):
        wrapper.update_params(_loss(model))
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters()))
    assert _scalar(hub, 'nonfinite_steps') == 1
    assert not math.isnan(model.weight.sum().item())


class _LossTurnsInfinite(Hook):
    """From the 2nd epoch on every loss is inf; records the weights at the end of the 1st."""

    def after_train_epoch(self, runner) -> None:
        if runner.epoch == 0:
            self.weights = [p.detach().clone() for p in runner.model.parameters()]
            runner.model.loss_weight = float('inf')


def test_a_run_whose_loss_turns_nonfinite_stops_with_the_last_good_checkpoint(tmp_path):
    hook = _LossTurnsInfinite()
    runner = toy_runner(str(tmp_path), max_epochs=3, custom_hooks=[hook],
                        optim_wrapper=dict(type='FiniteOptimWrapper',
                                           max_consecutive_nonfinite=3))
    with pytest.raises(NonFiniteLossError) as info:
        runner.train()
    msg = str(info.value)  # 4 iterations per epoch: the 5th, 6th and 7th are non-finite
    assert 'loss is non-finite' in msg and 'iterations 5-7' in msg
    assert 'stopping at iteration 7' in msg and 'non-finite loss (inf)' in msg
    assert 'Last good checkpoint: ' + str(tmp_path / 'epoch_1.pth') in msg
    assert all(torch.equal(a, b) for a, b in zip(hook.weights, runner.model.parameters()))
    assert runner.message_hub.log_scalars['train/nonfinite_steps'].current() == 3
