"""Reading what the tools write: MMEngine's ``scalars.json`` and the tools' metrics JSON.

A training run (``tools/train.py``) writes one JSON object a line to
``<work_dir>/<YYYYMMDD_HHMMSS>/vis_data/scalars.json`` (MMEngine's ``LocalVisBackend``,
through ``LoggerHook``): a line per logged training iteration
(``{"lr": 0.1, "loss": 2.02, "time": 0.14, ..., "epoch": 1, "iter": 4, "step": 4}``: ``iter``
and ``step`` count from the start of training) and a line per validation
(``{"longtail/top1_error": 13.25, ..., "step": 30}``: ``step`` is the epoch, no ``epoch`` key).
A test run (``tools/test.py``) writes its metrics to ``--out`` (``{"longtail/top1": ...}``,
or ``{"metrics": {...}}``), ``tools/tau_norm.py`` to ``best.json`` (``{"tau": ...,
"metrics": {...}}``): :func:`read_metrics` reads both.
"""
import json
import os
import os.path as osp
import re
from typing import Dict, List, Optional

_TIMESTAMP = re.compile(r'\d{8}_\d{6}')


def scalars_files(work_dir: str) -> List[str]:
    """The ``scalars.json`` of each run in a work dir, oldest first (by timestamp folder)."""
    if not osp.isdir(work_dir):
        return []
    return [osp.join(work_dir, d, 'vis_data', 'scalars.json') for d in sorted(os.listdir(work_dir))
            if _TIMESTAMP.fullmatch(d)
            and osp.isfile(osp.join(work_dir, d, 'vis_data', 'scalars.json'))]


def parse_scalars_line(line: str, path: str, number: int) -> dict:
    """One record of a ``scalars.json``; a clear error naming the file and line if it is not."""
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ValueError(f'{path}, line {number}: expected a JSON object, got {line.strip()!r} '
                         f'({exc.msg})') from None
    if not isinstance(record, dict) or not isinstance(record.get('step'), int):
        raise ValueError(f'{path}, line {number}: expected a JSON object with an int "step" '
                         f'(MMEngine\'s scalars.json), got {line.strip()!r}')
    return record


def read_scalars(path: str) -> List[dict]:
    """Every record of a ``scalars.json``, in order (blank lines skipped)."""
    with open(path) as f:
        return [parse_scalars_line(line, path, n) for n, line in enumerate(f, 1) if line.strip()]


def is_train_record(record: dict) -> bool:
    """A logged training iteration (it has ``epoch`` and ``iter``); else a validation."""
    return 'epoch' in record and 'iter' in record


def last_validation(path: str) -> Dict[str, float]:
    """The metrics of a training run's last validation (prefixes such as ``longtail/`` cut).

    Raises:
        ValueError: The file holds no validation record.
    """
    vals = [r for r in read_scalars(path) if not is_train_record(r)]
    if not vals:
        raise ValueError(f'{path}: expected a validation record (a line without "epoch"), '
                         'got none: was the run validated?')
    return numeric_metrics({k: v for k, v in vals[-1].items() if k != 'step'})


class ScalarsTail:
    """The records a running training adds to its ``scalars.json``, as they come.

    The run's timestamp folder is the first that was not in the work dir when this was made,
    so the records of earlier runs in the same work dir are never read. Only whole lines count
    (a line being written is read on a later :meth:`poll`).

    Args:
        work_dir (str): The training's ``--work-dir``.
    """

    def __init__(self, work_dir: str) -> None:
        self.work_dir = work_dir
        self._before = set(scalars_files(work_dir))
        self.path: Optional[str] = None
        self._offset, self._lines = 0, 0

    def poll(self) -> List[dict]:
        """The records written since the last call."""
        if self.path is None:
            new = [p for p in scalars_files(self.work_dir) if p not in self._before]
            if not new:
                return []
            self.path = new[0]
        with open(self.path, 'rb') as f:
            f.seek(self._offset)
            data = f.read()
        whole = data[:data.rfind(b'\n') + 1]
        self._offset += len(whole)
        records = []
        for line in whole.decode().splitlines():
            self._lines += 1
            if line.strip():
                records.append(parse_scalars_line(line, self.path, self._lines))
        return records


def numeric_metrics(raw: dict) -> Dict[str, float]:
    """The numbers of a metrics dict, keyed without their prefix (``longtail/top1`` -> ``top1``)."""
    return {k.split('/')[-1]: v for k, v in raw.items()
            if isinstance(v, (int, float)) and not isinstance(v, bool)}


def read_metrics(path: str) -> Dict[str, float]:
    """The metrics of ``tools/test.py --out`` or ``tools/tau_norm.py``'s ``best.json``.

    A top-level ``tau`` (tau-norm's pick) is kept next to them.

    Raises:
        ValueError: The file is not a JSON object of metrics.
    """
    with open(path) as f:
        raw = json.load(f)
    if not isinstance(raw, dict):
        raise ValueError(f'{path}: expected a JSON object of metrics, got {type(raw).__name__}')
    metrics = numeric_metrics(raw.get('metrics', raw))
    if 'tau' in raw and 'metrics' in raw:
        metrics['tau'] = raw['tau']
    return metrics
