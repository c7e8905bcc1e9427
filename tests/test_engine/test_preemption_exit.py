"""PreemptionHook in-process: handlers restored after training, and on preemption ``after_run``
runs (loggers, visualizer backends closed) before the exit with 75."""
import os
import os.path as osp
import signal

import pytest
from mmengine.hooks import Hook
from toy_runner import toy_runner

from aliprod_plugins.engine import PREEMPTED_EXIT_CODE, PreemptionHook

LOOP = dict(type='ResumableEpochBasedTrainLoop')


class _Watch(Hook):
    """Sends SIGTERM to this process after iteration ``at`` (if given); records the handlers."""

    priority = 'HIGHEST'

    def __init__(self, at=None) -> None:
        self.at = at
        self.during = set()
        self.ran = []

    def before_train_iter(self, runner, batch_idx, data_batch=None) -> None:
        self.during.add((signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGUSR1)))

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        if runner.iter + 1 == self.at:
            os.kill(os.getpid(), signal.SIGTERM)

    def after_run(self, runner) -> None:
        self.ran.append(signal.getsignal(signal.SIGTERM))


@pytest.fixture
def own_handlers():
    """Distinct handlers in place before the run; put back whatever happens."""
    def original(signum, frame):
        raise AssertionError('the original handler must not run during training')

    saved = {s: signal.signal(s, original) for s in (signal.SIGTERM, signal.SIGUSR1)}
    try:
        yield original
    finally:
        for s, handler in saved.items():
            signal.signal(s, handler)


def _is_hook_handler(handler) -> bool:
    return isinstance(getattr(handler, '__self__', None), PreemptionHook)


def test_handlers_are_installed_for_training_and_restored_after(tmp_path, own_handlers):
    watch = _Watch()
    toy_runner(str(tmp_path), max_epochs=1, train_cfg=LOOP, custom_hooks=[watch]).train()
    assert len(watch.during) == 1
    (term, usr1), = watch.during
    assert _is_hook_handler(term) and _is_hook_handler(usr1)
    assert signal.getsignal(signal.SIGTERM) is own_handlers
    assert signal.getsignal(signal.SIGUSR1) is own_handlers


def test_preemption_runs_after_run_restores_handlers_and_exits_75(tmp_path, own_handlers):
    watch = _Watch(at=6)  # epoch 2, batch 2
    runner = toy_runner(str(tmp_path), max_epochs=3, train_cfg=LOOP, custom_hooks=[watch])
    closed = []
    real_close = runner.visualizer.close
    runner.visualizer.close = lambda: closed.append(True) or real_close()
    with pytest.raises(SystemExit) as info:
        runner.train()
    assert info.value.code == PREEMPTED_EXIT_CODE
    assert osp.isfile(osp.join(str(tmp_path), 'iter_6.pth'))
    assert watch.ran == [own_handlers]  # once, with the handlers already put back
    assert closed == [True]  # LoggerHook.after_run closed the visualizer backends
    assert signal.getsignal(signal.SIGUSR1) is own_handlers
