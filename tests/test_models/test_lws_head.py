"""LWSHead: the stage-1 classifier stays fixed, the per-class scales are learnt."""
import torch
from mmengine.optim import build_optim_wrapper
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

import aliprod_plugins  # noqa: F401  registration
from aliprod_plugins.testing.tiny_model import tiny_classifier


def _model(head_type):
    torch.manual_seed(0)
    return MODELS.build(tiny_classifier(3, head_type))


def test_scales_start_at_one_and_a_stage1_checkpoint_loads():
    stage1 = _model('LinearClsHead').eval()
    lws = _model('LWSHead')
    missing = lws.load_state_dict(stage1.state_dict(), strict=False).missing_keys
    assert missing == ['head.scales']
    lws.eval()
    x = torch.randn(2, 3, 16, 16)
    torch.testing.assert_close(lws(x, mode='tensor'), stage1(x, mode='tensor'))
    with torch.no_grad():
        lws.head.scales.copy_(torch.tensor([2.0, 0.5, 1.0]))
    torch.testing.assert_close(lws(x, mode='tensor'),
                               stage1(x, mode='tensor') * torch.tensor([2.0, 0.5, 1.0]))


def test_training_changes_only_the_scales():
    model = _model('LWSHead')
    with torch.no_grad():
        model.head.fc.bias.copy_(torch.tensor([0.3, -0.2, 0.1]))
    # weight decay everywhere but the scales, as in configs/demo/digits_lt_stage2_lws.py
    wrapper = build_optim_wrapper(model, dict(
        optimizer=dict(type='SGD', lr=0.5, momentum=0.9, weight_decay=0.1),
        paramwise_cfg=dict(custom_keys={'head.scales': dict(decay_mult=0.0)})))
    weight, bias = model.head.fc.weight.clone(), model.head.fc.bias.clone()
    backbone = {k: v.clone() for k, v in model.backbone.state_dict().items()}
    for p in model.backbone.parameters():  # the frozen backbone of StageSwitchHook
        p.requires_grad_(False)
    gen = torch.Generator().manual_seed(1)
    for _ in range(5):
        inputs = torch.randn(6, 3, 16, 16, generator=gen)
        samples = [DataSample().set_gt_label(y) for y in (0, 1, 2, 2, 2, 2)]
        wrapper.update_params(model(inputs, samples, mode='loss')['loss'])
    assert torch.equal(model.head.fc.weight, weight)
    assert torch.equal(model.head.fc.bias, bias)
    for k, v in model.backbone.state_dict().items():
        if v.is_floating_point() and 'running' not in k:
            assert torch.equal(v, backbone[k]), k
    scales = model.head.scales.detach()
    assert not torch.allclose(scales, torch.ones(3)), scales
    # the most frequent label (class 2) gains the most
    assert scales[2] > scales[0] and scales[2] > scales[1], scales
