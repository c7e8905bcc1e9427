"""cRT's head re-initialisation drops the head's optimizer state and only the head's.

SGD with momentum 0.9 would otherwise keep pushing the fresh classifier along the old head's
momentum for dozens of iterations.
"""
import torch
from mmengine.hooks import Hook
from mmengine.runner import Runner
from test_stage_switch_hook import make_cfg


class MomentumProbe(Hook):
    """Copies of the optimizer's momentum buffers before and after every iteration."""

    priority = 'LOWEST'  # after StageSwitchHook.before_train_epoch

    def __init__(self):
        self.before, self.after = {}, {}

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        self.before[(runner.epoch, batch_idx)] = self._buffers(runner)

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        self.after[(runner.epoch, batch_idx)] = self._buffers(runner)

    @staticmethod
    def _buffers(runner):
        state = runner.optim_wrapper.optimizer.state
        return {name: state[p]['momentum_buffer'].clone()
                for name, p in runner.model.named_parameters()
                if 'momentum_buffer' in state.get(p, {})}


def test_reinit_head_drops_the_head_momentum_and_keeps_the_rest(tmp_path):
    hook = dict(type='StageSwitchHook', switch_epoch=1, sampler=None, reinit_head=True)
    runner = Runner.from_cfg(make_cfg(tmp_path, hook, max_epochs=2))
    probe = MomentumProbe()
    runner.register_hook(probe)
    runner.train()
    head = {'head.fc.weight', 'head.fc.bias'}
    rest = {'backbone.0.weight', 'backbone.0.bias', 'backbone.1.weight', 'neck.weight'}
    end_of_stage1, at_switch = probe.after[(0, 4)], probe.before[(1, 0)]
    # stage 1 built momentum everywhere
    assert head | rest <= set(end_of_stage1)
    # the switch dropped the head's momentum ...
    assert not head & set(at_switch), sorted(at_switch)
    # ... and left every other parameter's momentum as it was
    for name in rest:
        torch.testing.assert_close(at_switch[name], end_of_stage1[name], rtol=0, atol=0)
    # the first stage-2 step starts the head's momentum afresh
    assert head <= set(probe.after[(1, 0)])
