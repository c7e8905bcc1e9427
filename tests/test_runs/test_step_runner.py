"""StepRunner: a tool as a step, its log, CPU / wall time kept and re-read, failures named."""
import os
import sys

import pytest

from aliprod_plugins.runs import Step, StepError, StepRunner, tool_env

# burns a known amount of CPU time (at least 0.3 s user) and writes its output
BUSY = ('import sys, time\n'
        'end = time.process_time() + 0.3\n'
        'while time.process_time() < end: pass\n'
        'print("busy done")\n'
        'open(sys.argv[1], "w").write("out")\n')


@pytest.fixture
def busy(tmp_path):
    script = tmp_path / 'busy.py'
    script.write_text(BUSY)
    return str(script)


def test_step_logs_output_and_records_cpu_and_wall(tmp_path, busy):
    out, log = tmp_path / 'out.txt', tmp_path / 'logs' / 'busy.log'
    runner = StepRunner(tool_env(), skip_done=True)
    took = runner.run(Step('busy', [busy, str(out)], str(log), str(out)))
    assert not took.skipped and out.read_text() == 'out'
    assert 'busy done' in log.read_text()
    # the child's CPU time, not this process's: at least the 0.3 s it burned
    assert took.cpu_s >= 0.3 and took.wall_s >= 0.3
    assert float((tmp_path / 'logs' / 'busy.log.cpu').read_text()) == pytest.approx(
        took.cpu_s, abs=1e-3)
    assert float((tmp_path / 'logs' / 'busy.log.wall').read_text()) == pytest.approx(
        took.wall_s, abs=1e-3)


def test_done_step_is_skipped_and_reports_the_kept_times(tmp_path, busy):
    out, log = tmp_path / 'out.txt', tmp_path / 'busy.log'
    out.write_text('from an earlier run')
    # an earlier version's step: .cpu only, no .wall
    (tmp_path / 'busy.log.cpu').write_text('12.500')
    runner = StepRunner(tool_env(), skip_done=True)
    took = runner.run(Step('busy', [busy, str(out)], str(log), str(out), title='never shown'))
    assert (took.cpu_s, took.wall_s, took.skipped) == (12.5, None, True)
    assert out.read_text() == 'from an earlier run' and not log.exists()
    (tmp_path / 'busy.log.wall').write_text('30.250')
    assert runner.run(Step('busy', [busy, str(out)], str(log), str(out))).wall_s == 30.25


def test_step_runs_again_without_skip_done_or_without_its_cpu_file(tmp_path, busy, capsys):
    out, log = tmp_path / 'out.txt', tmp_path / 'busy.log'
    out.write_text('old')
    took = StepRunner(tool_env(), skip_done=True).run(
        Step('busy', [busy, str(out)], str(log), str(out), title='[1/1] busy'))
    assert not took.skipped and out.read_text() == 'out'  # output without .cpu: not done
    assert capsys.readouterr().out == '[1/1] busy\n'  # the title, when it starts
    out.write_text('old')
    took = StepRunner(tool_env()).run(Step('busy', [busy, str(out)], str(log), str(out)))
    assert not took.skipped and out.read_text() == 'out'


def test_failure_names_the_step_the_tool_and_the_log(tmp_path):
    script = tmp_path / 'fails.py'
    script.write_text('import sys\nprint("went wrong")\nsys.exit(3)\n')
    log = tmp_path / 'fails.log'
    with pytest.raises(StepError, match=r"^step 'stage1': fails\.py failed \(exit 3\); see "
                       + str(log).replace('.', r'\.') + '$'):
        StepRunner(tool_env()).run(Step('stage1', [str(script)], str(log)))
    assert 'went wrong' in log.read_text()
    assert not os.path.exists(str(log) + '.cpu')  # a failed step is not done


def test_missing_output_is_a_failure(tmp_path):
    script = tmp_path / 'lazy.py'
    script.write_text('print("nothing written")\n')
    out = tmp_path / 'never.json'
    with pytest.raises(StepError, match=r"step 'eval': lazy\.py exited 0 but wrote no .*"
                       r"never\.json; see .*lazy\.log"):
        StepRunner(tool_env()).run(Step('eval', [str(script)], str(tmp_path / 'lazy.log'),
                                        str(out)))


def test_side_by_side_steps_each_get_their_own_cpu_time_and_all_are_waited(tmp_path, busy):
    fails = tmp_path / 'fails.py'
    fails.write_text('raise SystemExit(2)\n')
    steps = [Step(f'busy{i}', [busy, str(tmp_path / f'out{i}')], str(tmp_path / f'b{i}.log'),
                  str(tmp_path / f'out{i}')) for i in range(2)]
    took = StepRunner(tool_env()).run_all(steps)
    assert all(t.cpu_s >= 0.3 for t in took)
    # each step's own 0.3 s, not the pair's 0.6 s (RUSAGE_CHILDREN would mix them)
    assert all(t.cpu_s < 0.3 + 0.25 for t in took)
    with pytest.raises(StepError, match="step 'bad'"):
        StepRunner(tool_env()).run_all([Step('bad', [str(fails)], str(tmp_path / 'bad.log')),
                                        steps[0]])
    assert (tmp_path / 'b0.log.cpu').is_file()  # the other step still finished


def test_on_line_sees_each_line_as_logged(tmp_path):
    script = tmp_path / 'talk.py'
    script.write_text('for i in range(3): print("line", i)\n')
    seen = []
    StepRunner(tool_env()).run(Step('talk', [str(script)], str(tmp_path / 't.log')),
                               on_line=seen.append)
    assert seen == ['line 0\n', 'line 1\n', 'line 2\n']
    assert (tmp_path / 't.log').read_text() == ''.join(seen)


def test_bad_cpu_file_is_named(tmp_path, busy):
    out = tmp_path / 'out.txt'
    out.write_text('x')
    (tmp_path / 'busy.log.cpu').write_text('oops')
    with pytest.raises(ValueError, match=r"busy\.log\.cpu: expected seconds as a number, "
                       r"got 'oops'"):
        StepRunner(tool_env(), skip_done=True).run(
            Step('busy', [busy, str(out)], str(tmp_path / 'busy.log'), str(out)))


def test_tools_run_with_this_python(tmp_path):
    script = tmp_path / 'which.py'
    script.write_text('import sys; print(sys.executable)\n')
    StepRunner(tool_env()).run(Step('which', [str(script)], str(tmp_path / 'w.log')))
    assert (tmp_path / 'w.log').read_text().strip() == sys.executable
