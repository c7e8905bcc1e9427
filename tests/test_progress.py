"""Progress: a bar on a terminal, a few plain lines (no carriage returns) in a log file."""
import io

import pytest

from aliprod_plugins.progress import Progress


class FakeTerminal(io.StringIO):

    def isatty(self):
        return True


def test_log_file_gets_ten_plain_lines_whatever_the_steps():
    log = io.StringIO()
    bar = Progress(1000, 'images', file=log)
    for _ in range(1000):
        bar.update()
    bar.close()
    lines = log.getvalue().splitlines()
    assert '\r' not in log.getvalue()
    assert [line.split(' images')[0].strip() for line in lines] == [
        f'{n}/1000' for n in range(100, 1001, 100)]
    assert lines[-1].startswith('  1000/1000 images (100%), ')


def test_batches_larger_than_a_tenth_print_once_per_update():
    log = io.StringIO()
    bar = Progress(10, file=log)
    bar.update(7)
    bar.update(3)
    assert [line.split(' items')[0].strip() for line in log.getvalue().splitlines()] == [
        '7/10', '10/10']


def test_terminal_gets_the_bar_and_a_final_newline():
    term = FakeTerminal()
    bar = Progress(5, file=term, min_interval=0.0)
    for _ in range(5):
        bar.update()
    bar.close()
    out = term.getvalue()
    assert '\r[' in out and ' 5/5, ' in out and out.endswith('\n')


def test_bad_total_is_named():
    with pytest.raises(ValueError, match='Progress: total expected an int >= 0, got -1'):
        Progress(-1)
