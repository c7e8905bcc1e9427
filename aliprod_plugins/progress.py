"""Progress of a tool: MMEngine's bar on a terminal, a few plain lines in a log file."""
import sys
import time
from typing import IO, Optional

from mmengine.utils import ProgressBar

from .checks import check_int


class Progress:
    """Show how far a loop is, without flooding a log file.

    On a terminal this is MMEngine's ``ProgressBar``, redrawn at most every ``min_interval``
    seconds (and at the end). When the stream is not a terminal (a log file, a pipe, Slurm's
    output file), where every carriage-return redraw would stay in the file, it writes one
    plain line at every ``1 / lines`` of the way instead:
    ``  300/1000 images (30%), 12 s, ETA 28 s``.

    Args:
        total (int): Number of steps.
        what (str): What is counted, for the plain lines. Defaults to 'items'.
        file (IO, optional): Where to write. Defaults to None (``sys.stdout``, as MMEngine).
        lines (int): Plain lines over the whole loop. Defaults to 10.
        min_interval (float): Seconds between two redraws of the bar. Defaults to 0.1.
    """

    def __init__(self, total: int, what: str = 'items', file: Optional[IO] = None,
                 lines: int = 10, min_interval: float = 0.1) -> None:
        check_int('total', total, low=0, owner='Progress')
        self.total, self.what, self.done = total, what, 0
        self.file = sys.stdout if file is None else file
        isatty = getattr(self.file, 'isatty', None)
        self.tty = bool(isatty and isatty())
        self.lines, self.min_interval = max(1, int(lines)), float(min_interval)
        self._start = self._drawn_at = time.monotonic()
        self._next_line = 1
        self._bar = ProgressBar(total, file=self.file) if self.tty and total else None

    def update(self, num: int = 1) -> None:
        """Count ``num`` more steps done."""
        self.done += num
        if not self.total:
            return
        now = time.monotonic()
        if self._bar is not None:
            if now - self._drawn_at >= self.min_interval or self.done >= self.total:
                self._bar.update(self.done - self._bar.completed)
                self._drawn_at = now
            return
        crossed = min(self.lines, self.done * self.lines // self.total)
        if crossed >= self._next_line:  # one line, however many tenths this step passed
            self._next_line = crossed + 1
            elapsed = now - self._start
            eta = elapsed * (self.total - self.done) / max(self.done, 1)
            width = len(str(self.total))
            self.file.write(f'  {self.done:>{width}}/{self.total} {self.what} '
                            f'({100 * self.done // self.total}%), {elapsed:.0f} s, '
                            f'ETA {eta:.0f} s\n')
            self.file.flush()

    def close(self) -> None:
        """End the bar's line (a terminal only)."""
        if self._bar is not None:
            self.file.write('\n')
            self.file.flush()
