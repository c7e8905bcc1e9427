"""One tool run as a step: a subprocess with its log file, its CPU and wall time, skipped when done.

The demo (``tools/run_demo.py``) and the benchmarks (``benchmarks/bench_methods.py`` and the
scripts built on it) run every tool through :class:`StepRunner`::

    runner = StepRunner(tool_env(ONE_THREAD_ENV), skip_done=True)
    took = runner.run(Step('stage1', ['tools/train.py', cfg, '--work-dir', out],
                           log=out + '.log', output=out + '/epoch_20.pth'))
    took.cpu_s, took.wall_s, took.skipped

A finished step leaves ``<log>.cpu`` (CPU seconds, user + system of the tool and the workers
it waited for, ``'%.3f'``) and ``<log>.wall`` (wall seconds) next to its log. With
``skip_done``, a step whose output and ``<log>.cpu`` exist is not run again and reports the
times kept there (a ``.wall`` file is missing for runs of older versions: ``wall_s`` None).
"""
import os
import os.path as osp
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Sequence

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


class StepError(RuntimeError):
    """A step's tool failed or wrote nothing: the message names the step and its log."""


@dataclass
class Step:
    """A tool to run.

    Args:
        name (str): The step's name, in messages (and the benchmarks' CPU bookkeeping).
        args (Sequence[str]): The tool's script and arguments (run with this Python).
        log (str): File for everything the tool prints (stdout and stderr).
        output (str, optional): What the tool writes: checked after the run, and with
            ``skip_done`` the step is skipped when it exists. Defaults to None.
        title (str, optional): Printed when the step starts (not when skipped).
            Defaults to None.
    """
    name: str
    args: Sequence[str]
    log: str
    output: Optional[str] = None
    title: Optional[str] = None


@dataclass
class StepTime:
    """What a step took: CPU seconds, wall seconds (None if unknown), whether it was skipped."""
    cpu_s: float
    wall_s: Optional[float]
    skipped: bool = False


class StepRunner:
    """Runs :class:`Step` s one at a time (:meth:`run`) or side by side (:meth:`run_all`).

    Args:
        env (Dict[str, str]): The tools' environment (see :func:`.env.tool_env`).
        skip_done (bool): Skip a step whose output and ``<log>.cpu`` exist. Defaults to False.
        cwd (str): The tools' working folder. Defaults to the repository root.
    """

    def __init__(self, env: Dict[str, str], skip_done: bool = False, cwd: str = ROOT) -> None:
        self.env, self.skip_done, self.cwd = env, skip_done, cwd

    def done(self, step: Step) -> Optional[StepTime]:
        """The kept times of a finished step, or None when it has to run."""
        if not (self.skip_done and step.output and osp.exists(step.output)
                and osp.isfile(step.log + '.cpu')):
            return None
        cpu = _read_seconds(step.log + '.cpu')
        wall = _read_seconds(step.log + '.wall') if osp.isfile(step.log + '.wall') else None
        return StepTime(cpu, wall, skipped=True)

    def run(self, step: Step, on_line: Optional[Callable[[str], None]] = None) -> StepTime:
        """Run a step (unless done), logging everything it prints.

        Args:
            step (Step): The step.
            on_line (Callable[[str], None], optional): Called with each line the tool prints,
                as it comes (after it is logged). Defaults to None.

        Returns:
            StepTime: Its CPU and wall time.

        Raises:
            StepError: The tool exited non-zero or wrote no ``step.output``.
        """
        return self.done(step) or self._finish(*self._start(step, on_line), on_line)

    def run_all(self, steps: List[Step]) -> List[StepTime]:
        """Run steps side by side (each mostly waits on imports); raise on the first failure.

        All are waited for before a failure is raised, so none outlives the call.
        """
        started = [self.done(step) or self._start(step, None) for step in steps]
        took, error = [], None
        for item in started:
            try:
                took.append(item if isinstance(item, StepTime) else self._finish(*item, None))
            except StepError as exc:
                error = error or exc
        if error is not None:
            raise error
        return took

    def _start(self, step: Step, on_line: Optional[Callable[[str], None]]) -> tuple:
        if step.title:
            print(step.title, flush=True)
        folder = osp.dirname(osp.abspath(step.log))
        os.makedirs(folder, exist_ok=True)
        log = open(step.log, 'w')
        proc = subprocess.Popen(
            [sys.executable, *step.args], cwd=self.cwd, env=self.env, text=True,
            stdout=subprocess.PIPE if on_line else log, stderr=subprocess.STDOUT)
        return step, proc, log, time.perf_counter()

    def _finish(self, step: Step, proc: subprocess.Popen, log, start: float,
                on_line: Optional[Callable[[str], None]]) -> StepTime:
        try:
            if on_line:
                for line in proc.stdout:
                    log.write(line)
                    on_line(line)
                proc.stdout.close()
            # the rusage of this child alone (its waited-for workers included), also when
            # other steps run side by side
            _, status, usage = os.wait4(proc.pid, 0)
            proc.returncode = os.waitstatus_to_exitcode(status)
        finally:
            log.close()
        wall = time.perf_counter() - start
        tool = osp.basename(step.args[0]) if step.args else '?'
        if proc.returncode != 0:
            raise StepError(f'step {step.name!r}: {tool} failed (exit {proc.returncode}); '
                            f'see {step.log}')
        if step.output and not osp.exists(step.output):
            raise StepError(f'step {step.name!r}: {tool} exited 0 but wrote no {step.output}; '
                            f'see {step.log}')
        cpu = usage.ru_utime + usage.ru_stime
        _write_seconds(step.log + '.cpu', cpu)
        _write_seconds(step.log + '.wall', wall)
        return StepTime(cpu, wall)


def _write_seconds(path: str, seconds: float) -> None:
    with open(path, 'w') as f:
        f.write(f'{seconds:.3f}')


def _read_seconds(path: str) -> float:
    with open(path) as f:
        text = f.read().strip()
    try:
        return float(text)
    except ValueError:
        raise ValueError(f'{path}: expected seconds as a number, got {text!r}') from None
