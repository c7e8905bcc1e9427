"""A training's progress in one line per epoch, from its ``scalars.json`` records as they come.

``tools/run_demo.py`` shows these while ``tools/train.py`` runs (see :class:`.ScalarsTail`)::

        stage 1  epoch  3/40  loss 1.2345  lr 1.0e-01  eta 0:01:10
        validation after epoch 30: top-1 error 17.50, mean class error 17.50
        StageSwitchHook: epoch 30: entering stage 2: sampler ClassBalancedSampler

The numbers come from the records; only the stage switch and errors are taken from the
tool's printed lines (they are messages, not metrics).
"""
import datetime
from typing import Iterable, List, Optional

from .scalars import is_train_record


class EpochProgress:
    """One line per epoch: the last logged iteration of each epoch, and each validation.

    An epoch's last record is known when a record of a later epoch or a validation comes
    (or at :meth:`flush`), so each line is shown one logging interval late.

    Args:
        stage1_epochs (int): Epochs of stage 1 (stage 2 follows).
        total_epochs (int): All epochs.
    """

    def __init__(self, stage1_epochs: int, total_epochs: int) -> None:
        self.stage1_epochs, self.total_epochs = stage1_epochs, total_epochs
        self._held: Optional[dict] = None
        self._times: List[float] = []  # each logged window's mean time per iteration

    def feed(self, records: Iterable[dict]) -> List[str]:
        """The lines the new records complete."""
        lines = []
        for record in records:
            if is_train_record(record):
                if self._held is not None and record['epoch'] != self._held['epoch']:
                    lines.append(self.epoch_line(self._held))
                self._held = record
                self._times.append(record['time'])
            else:
                lines += self.flush() + [validation_line(record)]
        return lines

    def flush(self) -> List[str]:
        """The line of the epoch held back (at the end of the run)."""
        held, self._held = self._held, None
        return [] if held is None else [self.epoch_line(held)]

    def epoch_line(self, record: dict) -> str:
        """``stage 1  epoch  3/40  loss 1.2345  lr 1.0e-01  eta 0:01:10`` of an epoch's end.

        The ETA assumes the epochs left are as long as the mean so far and run at the mean
        ``time`` per iteration of the windows logged so far (as MMEngine's ETA, which averages
        over all iterations).
        """
        epoch, total = record['epoch'], self.total_epochs
        stage = 1 if epoch <= self.stage1_epochs else 2
        per_iter = sum(self._times) / len(self._times) if self._times else record['time']
        left = max(0.0, per_iter * (total - epoch) * record['iter'] / epoch)
        eta = datetime.timedelta(seconds=int(left))
        return (f'    stage {stage}  epoch {epoch:>{len(str(total))}}/{total}'
                f'  loss {record["loss"]:.4f}  lr {record["lr"]:.1e}  eta {eta}')


def validation_line(record: dict) -> str:
    """``validation after epoch 30: top-1 error 17.50, mean class error 17.50``."""
    return (f'    validation after epoch {record["step"]}: top-1 error '
            f'{record["longtail/top1_error"]:.2f}, mean class error '
            f'{record["longtail/mean_class_error"]:.2f}')


def message_line(line: str) -> Optional[str]:
    """A printed line worth showing (the stage switch, an error) without the log prefix."""
    if 'StageSwitchHook: ' in line:
        for level in (' - INFO - ', ' - WARNING - '):
            line = line.split(level, 1)[-1]
        return '    ' + line.strip()
    if 'Error' in line or 'Traceback' in line:
        return '    ' + line.rstrip()
    return None
