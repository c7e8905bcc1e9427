"""Run a tool and signal it when its output reaches a given line (preemption tests)."""
import re
import signal
import subprocess
from typing import List, Optional, Tuple

from conftest import REPO_ROOT, tool_env


def run_until(args: List[str], until: Optional[str] = None,
              send: int = signal.SIGTERM) -> Tuple[int, str]:
    """Run ``args`` from the repository root; send ``send`` once a line matches ``until``.

    Args:
        args (list[str]): The command.
        until (str, optional): Regular expression of the output line to signal at. Defaults to
            None (never signal).
        send (int): The signal. Defaults to SIGTERM. After SIGKILL the output is not read on
            (orphaned DataLoader workers may hold the pipe a while).

    Returns:
        tuple: (exit code, the output so far).
    """
    proc = subprocess.Popen(args, cwd=REPO_ROOT, env=tool_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    lines = []
    try:
        for line in proc.stdout:
            lines.append(line)
            if until is not None and re.search(until, line):
                proc.send_signal(send)
                until = None
                if send == signal.SIGKILL:
                    break
        return proc.wait(timeout=300), ''.join(lines)
    finally:
        proc.kill()
        proc.stdout.close()
