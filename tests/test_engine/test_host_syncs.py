"""Our code adds one host synchronisation per training iteration, no more.

On a GPU every host read of a device tensor (``item``, ``tolist``, ``bool``, ``float``) stalls
the device until the queued kernels have run. The finite check of ``FiniteOptimWrapper`` and
``PreemptionHook``'s flag share one collective and one ``tolist()``; the gradient norm stays
on the device unless a step is skipped. Counted here on CPU with :class:`HostSyncProbe`.
"""
import argparse
import os.path as osp

import pytest
import torch
from conftest import REPO_ROOT, demo_overrides, run_gloo_ranks
from mmengine.config import Config, DictAction
from mmengine.hooks import Hook
from mmengine.logging import MessageHub
from mmengine.runner import Runner

from aliprod_plugins.engine import FiniteOptimWrapper, PreemptionHook
from aliprod_plugins.testing.host_syncs import HostSyncProbe

CONFIG = osp.join(REPO_ROOT, 'configs', 'demo', 'digits_lt_stage1.py')
ITERS = 7  # 28 training images of the tiny root / batch 4


class _Window(Hook):
    """Counts from the first iteration's start to the epoch's end (data loading included)."""

    priority = 'VERY_HIGH'

    def __init__(self, probe: HostSyncProbe) -> None:
        self.probe, self.ours, self.origins = probe, None, None

    def before_train_iter(self, runner, batch_idx, data_batch=None) -> None:
        if batch_idx == 0:
            self.probe.reset()

    def after_train_epoch(self, runner) -> None:
        self.ours = self.probe.count_under('aliprod_plugins')
        self.origins = self.probe.by_origin()


def _runner(tiny_root: str, work_dir: str) -> Runner:
    parser = argparse.ArgumentParser()
    parser.add_argument('--o', nargs='+', action=DictAction)
    cfg = Config.fromfile(CONFIG)
    cfg.merge_from_dict(parser.parse_args(['--o', *demo_overrides(tiny_root, max_epochs=1)]).o)
    # the hot path: no log line, no checkpoint, no validation inside the counted window
    cfg.merge_from_dict({'default_hooks.logger.interval': 1000,
                         'default_hooks.checkpoint.interval': 1000})
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    cfg.work_dir, cfg.log_level = work_dir, 'WARNING'
    cfg.experiment_name = f'host_syncs_{osp.basename(work_dir)}'
    return Runner.from_cfg(cfg)


def test_the_runner_adds_one_host_sync_per_iteration(tiny_root, tmp_path):
    runner = _runner(tiny_root, str(tmp_path))
    probe = HostSyncProbe(root=REPO_ROOT)
    window = _Window(probe)
    runner.register_hook(window)
    with probe:
        runner.train()
    assert runner.iter == ITERS
    assert any('PreemptionHook' == type(h).__name__ for h in runner.hooks)
    assert window.ours == ITERS, window.origins  # FiniteOptimWrapper's flags.tolist()
    assert 'item' not in torch.Tensor.__dict__  # the probe put the methods back


def test_the_grad_norm_stays_on_the_device_unless_a_step_is_skipped():
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 1)
    wrapper = FiniteOptimWrapper(optimizer=torch.optim.SGD(model.parameters(), lr=0.1))
    hub = MessageHub.get_instance('host_syncs_norm')
    MessageHub._instance_dict.move_to_end(hub.instance_name)
    with HostSyncProbe() as probe:
        wrapper.update_params((model(torch.ones(2, 3))**2).mean())
    assert probe.count_under('finite_optim_wrapper.py') == 1, probe.by_origin()


def _rank_decisions(rank: int, world_size: int) -> list:
    hub = MessageHub.get_instance(f'host_syncs_rank{rank}')
    MessageHub._instance_dict.move_to_end(hub.instance_name)
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 1)
    wrapper = FiniteOptimWrapper(optimizer=torch.optim.SGD(model.parameters(), lr=0.1))
    hook = PreemptionHook()
    wrapper.preemption = hook  # as PreemptionHook.before_train_iter does
    decisions = []
    for signalled in (False, True):
        if signalled and rank == 1:  # only rank 1 receives the signal
            hook.received = 'SIGTERM'
        wrapper.update_params((model(torch.ones(2, 3))**2).mean())
        carried = hook.agreed
        # after the step, the hook decides without a collective of its own
        with HostSyncProbe() as probe:
            decided = hook._any_rank_signalled()
        decisions.append([carried, decided, probe.total])
    return decisions


def test_the_preemption_flag_rides_on_the_steps_collective():
    expected = [[False, False, 0], [True, True, 0]]
    assert run_gloo_ranks(_rank_decisions, world_size=2) == {0: expected, 1: expected}


@pytest.mark.parametrize('received', [None, 'SIGUSR1'])
def test_one_process_decides_from_its_own_flag_without_a_tensor(received):
    hook = PreemptionHook()
    hook.received = received
    with HostSyncProbe() as probe:
        assert hook._any_rank_signalled() is (received is not None)
    assert probe.total == 0
