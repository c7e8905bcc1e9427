"""scalars.json as MMEngine writes it, read whole, as it grows, and turned into progress lines."""
import json

import pytest

from aliprod_plugins.runs import (ScalarsTail, last_validation, read_metrics, read_scalars,
                                  scalars_files)
from aliprod_plugins.runs.progress import EpochProgress, message_line


def train(epoch: int, it: int, loss: float, lr: float = 0.1, time: float = 0.5) -> dict:
    # the keys LoggerHook writes for a training iteration (MMEngine 0.10), in its order
    return {'lr': lr, 'data_time': 0.01, 'nonfinite_steps': 0, 'loss': loss, 'time': time,
            'bad_images': 0, 'bad_image_files': 0, 'epoch': epoch, 'iter': it, 'step': it}


def val(epoch: int, top1_error: float, mean_class_error: float) -> dict:
    return {'longtail/top1': 100 - top1_error, 'longtail/top1_error': top1_error,
            'longtail/mean_class_error': mean_class_error, 'longtail/few_shot_acc': 75.0,
            'data_time': 0.1, 'time': 0.2, 'step': epoch}


# two epochs of 3 iterations logged every 2 (ignore_last=False: 2, 3 | 5, 6), a validation
RECORDS = [train(1, 2, 2.0), train(1, 3, 1.9), train(2, 5, 1.5), train(2, 6, 1.25, lr=0.01),
           val(2, 17.5, 12.25)]


def write(path, records, partial: str = ''):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(''.join(json.dumps(r) + '\n' for r in records) + partial)


def test_read_scalars_and_last_validation(tmp_path):
    path = tmp_path / 'work' / '20261204_080018' / 'vis_data' / 'scalars.json'
    write(path, RECORDS)
    (tmp_path / 'work' / 'not_a_run' / 'vis_data').mkdir(parents=True)
    assert scalars_files(str(tmp_path / 'work')) == [str(path)]
    assert [r['step'] for r in read_scalars(str(path))] == [2, 3, 5, 6, 2]
    assert last_validation(str(path)) == {'top1': 82.5, 'top1_error': 17.5,
                                          'mean_class_error': 12.25, 'few_shot_acc': 75.0,
                                          'data_time': 0.1, 'time': 0.2}
    write(path, RECORDS[:4])
    with pytest.raises(ValueError, match='expected a validation record'):
        last_validation(str(path))


def test_bad_lines_are_named_by_file_and_line(tmp_path):
    path = tmp_path / 'scalars.json'
    path.write_text(json.dumps(RECORDS[0]) + '\n{"loss": 1.0\n')
    with pytest.raises(ValueError, match=r'scalars\.json, line 2: expected a JSON object'):
        read_scalars(str(path))
    path.write_text('[1, 2]\n')
    with pytest.raises(ValueError, match=r'line 1: expected a JSON object with an int "step"'):
        read_scalars(str(path))


def test_tail_reads_whole_new_lines_of_the_new_run_only(tmp_path):
    work = tmp_path / 'work'
    old = work / '20261203_100000' / 'vis_data' / 'scalars.json'
    write(old, [train(1, 1, 9.0)])  # an earlier run in the same work dir
    tail = ScalarsTail(str(work))
    assert tail.poll() == []  # the new run has not started
    new = work / '20261204_080018' / 'vis_data' / 'scalars.json'
    write(new, RECORDS[:1], partial='{"lr": 0.1, "lo')  # a line being written
    assert tail.poll() == RECORDS[:1]
    write(new, RECORDS[:3])
    assert tail.poll() == RECORDS[1:3]
    assert tail.poll() == []


def test_progress_one_line_per_epoch_and_validation():
    progress = EpochProgress(stage1_epochs=1, total_epochs=2)
    assert progress.feed(RECORDS[:2]) == []  # epoch 1 may have more iterations
    # epoch 1 ended with iteration 3: its loss and lr; ETA 0.5 s x 1 epoch x 3 iterations
    assert progress.feed(RECORDS[2:3]) == ['    stage 1  epoch 1/2  loss 1.9000  lr 1.0e-01  '
                                           'eta 0:00:01']
    assert progress.feed(RECORDS[3:]) == [
        '    stage 2  epoch 2/2  loss 1.2500  lr 1.0e-02  eta 0:00:00',
        '    validation after epoch 2: top-1 error 17.50, mean class error 12.25']
    assert progress.flush() == []
    progress = EpochProgress(stage1_epochs=1, total_epochs=3)
    assert progress.feed([train(3, 9, 0.5)]) == []
    # the last epoch, shown when the run ends
    assert progress.flush() == ['    stage 2  epoch 3/3  loss 0.5000  lr 1.0e-01  eta 0:00:00']


def test_progress_pads_the_epoch_and_estimates_eta_from_the_mean_epoch():
    progress = EpochProgress(stage1_epochs=30, total_epochs=40)
    progress.feed([train(3, 33, 1.23456, time=0.25)])
    # 37 epochs left x 11 iterations x 0.25 s = 101.75 s
    assert progress.flush() == ['    stage 1  epoch  3/40  loss 1.2346  lr 1.0e-01  '
                                'eta 0:01:41']
    # the mean time per iteration of all windows so far: (0.25 + 0.75) / 2 = 0.5 s
    progress.feed([train(4, 44, 1.0, time=0.75)])
    assert progress.flush()[0].endswith('eta 0:03:18')  # 36 x 11 x 0.5 = 198 s


def test_messages_shown_are_the_switch_and_errors():
    prefix = '11/29 19:55:58 - mmengine - INFO - '
    assert message_line(prefix + 'StageSwitchHook: epoch 30: entering stage 2\n') == (
        '    StageSwitchHook: epoch 30: entering stage 2')
    assert message_line('(ABOVE_NORMAL) StageSwitchHook                    \n') is None
    assert message_line(prefix + 'Epoch(train) [1][4/11]  loss: 2.0\n') is None
    assert message_line('ValueError: bad\n') == '    ValueError: bad'


def test_read_metrics_of_test_out_and_tau_norm(tmp_path):
    out = tmp_path / 'stage1.json'
    out.write_text(json.dumps({'longtail/top1_error': 13.25, 'longtail/few_shot_acc': 75.0}))
    assert read_metrics(str(out)) == {'top1_error': 13.25, 'few_shot_acc': 75.0}
    best = tmp_path / 'best.json'
    best.write_text(json.dumps({'mode': 'tau_norm', 'tau': 0.7, 'selected_by': 'x',
                                'metrics': {'top1_error': 7.25, 'few_shot_acc': 87.5}}))
    assert read_metrics(str(best)) == {'top1_error': 7.25, 'few_shot_acc': 87.5, 'tau': 0.7}
    out.write_text('[1]')
    with pytest.raises(ValueError, match=r'stage1\.json: expected a JSON object of metrics'):
        read_metrics(str(out))
