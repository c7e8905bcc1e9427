"""BadImageHook: warn once per bad path, running count in the message hub, resume-safe."""
import logging
from types import SimpleNamespace

import pytest
from mmengine.hooks import LoggerHook
from mmengine.logging import MessageHub, MMLogger
from mmpretrain.registry import HOOKS
from mmpretrain.structures import DataSample

from aliprod_plugins.hooks import BadImageHook
from conftest import run_gloo_ranks


class ListHandler(logging.Handler):

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages = []

    def emit(self, record) -> None:
        self.messages.append(record.getMessage())


@pytest.fixture
def warnings():
    logger = MMLogger.get_instance('test_bad_image_hook')
    handler = ListHandler()
    logger.addHandler(handler)
    yield handler.messages
    logger.removeHandler(handler)


def fake_runner(name: str, iters_per_epoch: int = 6, log_interval: int = 2):
    return SimpleNamespace(
        message_hub=MessageHub.get_instance(name),
        iter=0,
        hooks=[LoggerHook(interval=log_interval)],
        train_dataloader=[None] * iters_per_epoch)


def batch(*bad_lists):
    samples = []
    for bad in bad_lists:
        sample = DataSample()
        if bad is not None:
            sample.set_metainfo({'bad_image_paths': bad})
        samples.append(sample)
    return dict(inputs=[None] * len(samples), data_samples=samples)


def run_epoch(hook, runner, batches):
    for idx, data_batch in enumerate(batches):
        hook.after_train_iter(runner, idx, data_batch)
        runner.iter += 1


def scalar(runner, key='train/bad_images'):
    return runner.message_hub.get_scalar(key).current()


def test_counts_and_warns_once(warnings):
    hook = HOOKS.build(dict(type='BadImageHook'))
    runner = fake_runner('bad_hook_count')
    hook.before_train(runner)
    assert hook._interval == 2  # follows the LoggerHook
    batches = [
        batch(None, None),
        batch(['/d/a.jpg'], None),
        batch(None, None),
        batch(['/d/a.jpg', '/d/b.jpg'], ['/d/c.jpg']),
        batch(None, None),
        batch(None)
    ]
    hook.after_train_iter(runner, 0, batches[0])
    runner.iter += 1
    assert 'train/bad_images' not in runner.message_hub.log_scalars  # only at log iterations
    hook.after_train_iter(runner, 1, batches[1])
    runner.iter += 1
    assert scalar(runner) == 1 and scalar(runner, 'train/bad_image_files') == 1
    run_epoch(hook, runner, batches[2:])
    assert scalar(runner) == 4 and scalar(runner, 'train/bad_image_files') == 3
    # the next epoch hits the same files again: counted, not warned again
    run_epoch(hook, runner, batches)
    assert scalar(runner) == 8 and scalar(runner, 'train/bad_image_files') == 3
    bad_warnings = [m for m in warnings if m.startswith('unreadable image')]
    warned = sorted(m.rsplit(' ', 1)[1] for m in bad_warnings)
    assert warned == ['/d/a.jpg', '/d/b.jpg', '/d/c.jpg']
    hook.after_train(runner)
    assert '8 training samples were replaced' in warnings[-1]


def test_reports_at_epoch_end_and_zero_when_clean():
    hook = BadImageHook(interval=100)
    runner = fake_runner('bad_hook_epoch_end', iters_per_epoch=3)
    hook.before_train(runner)
    run_epoch(hook, runner, [batch(None), batch(None), batch(None)])
    assert scalar(runner) == 0  # the count is in the log even when nothing went wrong
    run_epoch(hook, runner, [batch(None), batch('/d/x.jpg'), batch(None)])
    assert scalar(runner) == 1


def test_resume_continues_the_count():
    runner = fake_runner('bad_hook_resume')
    runner.message_hub.update_scalar('train/bad_images', 5)
    hook = BadImageHook()
    hook.before_train(runner)
    run_epoch(hook, runner, [batch(None), batch(['/d/y.jpg'])])
    assert scalar(runner) == 6


def test_odd_batches_are_ignored():
    hook = BadImageHook(interval=1)
    runner = fake_runner('bad_hook_odd')
    hook.before_train(runner)
    for data_batch in (None, dict(inputs=[]), dict(data_samples=None),
                       dict(data_samples=[dict(bad_image_paths=['/d/z.jpg'])])):
        hook.after_train_iter(runner, 0, data_batch)
    assert scalar(runner) == 1


@pytest.mark.parametrize('bad', [0, -1, 2.5, True])
def test_bad_interval(bad):
    with pytest.raises(ValueError, match='BadImageHook: interval expected an int >= 1 or None'):
        BadImageHook(interval=bad)


def _dist_worker(rank: int, world_size: int) -> tuple:
    hook = BadImageHook(interval=2)
    runner = fake_runner(f'bad_hook_dist_{rank}', iters_per_epoch=4)
    hook.before_train(runner)
    # rank 0 meets a.jpg twice, rank 1 meets a.jpg and b.jpg once
    own = [[batch(['/d/a.jpg']),
            batch(None), batch(None),
            batch(['/d/a.jpg'])],
           [batch(None), batch(['/d/a.jpg', '/d/b.jpg']),
            batch(None), batch(None)]][rank]
    run_epoch(hook, runner, own)
    return scalar(runner), scalar(runner, 'train/bad_image_files'), sorted(hook.seen)


def test_counts_are_summed_over_ranks():
    results = run_gloo_ranks(_dist_worker, 2)
    assert sorted(results) == [0, 1]
    for rank, (count, files, seen) in results.items():
        assert (count, files, seen) == (4, 2, ['/d/a.jpg', '/d/b.jpg']), rank
