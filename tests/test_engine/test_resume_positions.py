"""Where a resumed run starts: save_best's re-saved checkpoints, the fallback's choice, load_from.

Toy runs (4 iterations per epoch, SGD lr 0.05, MultiStepLR x0.1 after epoch 2) with
``ResumableEpochBasedTrainLoop``.
"""
import os
import os.path as osp

import torch
from mmengine.config import Config
from mmengine.evaluator import BaseMetric
from mmengine.hooks import Hook
from toy_runner import toy_runner

from aliprod_plugins.engine import safe_load
from aliprod_plugins.engine.resume import apply_resume

LOOP = dict(type='ResumableEpochBasedTrainLoop')


class _Acc(BaseMetric):
    """Reports a better ``acc`` at every validation, so save_best saves every time."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def process(self, data_batch, data_samples) -> None:
        self.results.append(0)

    def compute_metrics(self, results) -> dict:
        self.calls += 1
        return dict(acc=float(self.calls))


class _Record(Hook):
    """Records (epoch, batch index, lr, torch RNG draw) at every training iteration."""

    def __init__(self) -> None:
        self.iters = []
        self.first_state = None

    def before_train_epoch(self, runner) -> None:
        if self.first_state is None:
            self.first_state = torch.get_rng_state()

    def before_train_iter(self, runner, batch_idx, data_batch=None) -> None:
        lr = runner.optim_wrapper.get_lr()['lr'][0]
        self.iters.append((runner.epoch, batch_idx, round(lr, 6)))


def _run(work_dir, max_epochs, **kwargs):
    record = _Record()
    toy_runner(str(work_dir), max_epochs=max_epochs, train_cfg=LOOP, custom_hooks=[record],
               **kwargs).train()
    return record


def test_a_checkpoint_saved_again_by_save_best_resumes_at_the_next_epoch(tmp_path):
    best = dict(checkpoint=dict(save_best='auto'), metric=_Acc())
    _run(tmp_path, 1, **best)
    epoch_1 = osp.join(str(tmp_path), 'epoch_1.pth')
    # save_best wrote epoch_1.pth again from validation, after the epoch counter moved
    meta = safe_load(epoch_1)['meta']
    assert (meta['epoch'], meta['iter'], meta['inner_iter'], meta['mid_epoch']) == \
        (1, 4, 0, False)
    record = _run(tmp_path, 3, resume=True, load_from=epoch_1, **best)
    # epochs 2 and 3 in full: 8 iterations (4 when the re-save was read as mid-epoch)
    assert [(e, b) for e, b, _ in record.iters] == [(e, b) for e in (1, 2) for b in range(4)]


def test_load_from_a_mid_epoch_snapshot_trains_full_epochs_from_the_seed(tmp_path):
    fresh = _run(tmp_path / 'fresh', 2, randomness=dict(seed=7))
    # a mid-epoch snapshot: a run stopped after iteration 2 of epoch 1
    snap_dir = tmp_path / 'snap'
    _run(snap_dir, 1, max_keep_ckpts=-1, checkpoint=dict(by_epoch=False, interval=2),
         randomness=dict(seed=99))
    snapshot = osp.join(str(snap_dir), 'iter_2.pth')
    meta = safe_load(snapshot)['meta']
    assert (meta['inner_iter'], meta['mid_epoch']) == (2, True)
    loaded = _run(tmp_path / 'loaded', 2, load_from=snapshot, randomness=dict(seed=7))
    assert [(e, b) for e, b, _ in loaded.iters] == [(e, b) for e in (0, 1) for b in range(4)]
    # the RNG stream is the seed's, not the snapshot's (seed 99)
    assert torch.equal(loaded.first_state, fresh.first_state)


def _complete_epoch_2_truncated_epoch_3_and_its_best(work_dir) -> None:
    _run(work_dir, 3, max_keep_ckpts=3)
    epoch_3 = osp.join(str(work_dir), 'epoch_3.pth')
    ckpt = safe_load(epoch_3)
    best = {k: v for k, v in ckpt.items() if k not in ('optimizer', 'param_schedulers')}
    torch.save(best, osp.join(str(work_dir), 'best_acc_epoch_3.pth'))  # as save_best writes
    data = open(epoch_3, 'rb').read()
    with open(epoch_3, 'wb') as f:
        f.write(data[:len(data) // 2])


def test_resume_falls_back_to_a_complete_checkpoint_before_a_weights_only_one(tmp_path):
    _complete_epoch_2_truncated_epoch_3_and_its_best(tmp_path)
    cfg = Config(dict(work_dir=str(tmp_path), load_from=None))
    plan = apply_resume(cfg, 'auto')
    assert cfg.load_from == osp.join(str(tmp_path), 'epoch_2.pth')
    record = _run(tmp_path, 4, resume=True, load_from=cfg.load_from)
    # epoch 3 again, with the schedule's lr after its milestone (0.05 restarted is the bug)
    assert record.iters[0] == (2, 0, 0.005)
    assert 'restart' not in ' '.join(msg for _, msg in plan.notes)


def test_a_weights_only_checkpoint_is_taken_last_and_warned_about(tmp_path):
    _complete_epoch_2_truncated_epoch_3_and_its_best(tmp_path)
    for name in ('epoch_1.pth', 'epoch_2.pth'):
        os.remove(osp.join(str(tmp_path), name))
    cfg = Config(dict(work_dir=str(tmp_path), load_from=None))
    plan = apply_resume(cfg, 'auto')
    best = osp.join(str(tmp_path), 'best_acc_epoch_3.pth')
    assert cfg.load_from == best
    notes = ' '.join(msg for _, msg in plan.notes)
    assert f'{best} holds no optimizer and no param_schedulers state' in notes
    assert 'the optimizer state (momentum, ...) and the LR / parameter schedules restart' in notes
