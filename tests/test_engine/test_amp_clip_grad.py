"""fp16 AMP with gradient clipping clips the *unscaled* gradients (issue 19.9).

``FiniteAmpOptimWrapper`` steps through its own code path when a loss scaler is active; the
gradients are multiplied by the loss scale (2**16 here) until ``GradScaler.unscale_``. Clipping
before unscaling would compare a norm 65,536x too large with ``max_norm`` and shrink the update
by that factor. The expected update is computed with plain autograd, without the wrapper.
"""
import pytest
import torch
from mmengine.logging import MessageHub
from mmengine.optim.optimizer import amp_optimizer_wrapper

from aliprod_plugins.engine import FiniteAmpOptimWrapper

X = torch.tensor([[1.0, 2.0, -1.0], [0.5, -0.5, 2.0]])
LR = 0.1


def _model() -> torch.nn.Linear:
    torch.manual_seed(0)
    return torch.nn.Linear(3, 1)


@pytest.mark.parametrize('fraction', [0.25, 4.0])  # max_norm below / above the gradient norm
def test_clipping_sees_unscaled_gradients(monkeypatch, fraction):
    hub = MessageHub.get_instance(f'amp_clip_{fraction}')
    MessageHub._instance_dict.move_to_end(hub.instance_name)
    reference = _model()
    (reference(X)**2).mean().backward()
    grads = [p.grad.clone() for p in reference.parameters()]
    norm = torch.linalg.vector_norm(torch.stack([g.norm() for g in grads])).item()
    max_norm = fraction * norm
    factor = min(1.0, max_norm / norm)
    expected = [p.detach() - LR * factor * g for p, g in zip(reference.parameters(), grads)]

    monkeypatch.setattr(amp_optimizer_wrapper, 'is_cuda_available', lambda: True)
    model = _model()
    wrapper = FiniteAmpOptimWrapper(optimizer=torch.optim.SGD(model.parameters(), lr=LR),
                                    clip_grad=dict(max_norm=max_norm))
    wrapper.loss_scaler = torch.amp.GradScaler('cpu', init_scale=2.0**16)
    wrapper.update_params((model(X)**2).mean())

    assert hub.log_scalars['train/grad_norm'].current() == pytest.approx(norm, rel=1e-5)
    for actual, want in zip(model.parameters(), expected):
        torch.testing.assert_close(actual.detach(), want, rtol=1e-5, atol=1e-7)
    assert wrapper.loss_scaler.get_scale() == 2.0**16  # no overflow: the scale is unchanged
