"""Running the tools as steps, and reading what they write (for the demo and the benchmarks).

- :mod:`.step`: :class:`StepRunner` runs a tool as a subprocess with its log, CPU and wall time,
  skipped when its output exists; :class:`StepError` names the step and its log.
- :mod:`.env`: the tools' environment (:data:`PINNED_ENV`, :data:`ONE_THREAD_ENV`).
- :mod:`.scalars`: MMEngine's ``vis_data/scalars.json`` (whole or as it grows) and the tools'
  metrics JSON.
- :mod:`.schedule`: a two-stage config's epochs and milestones.
- :mod:`.progress`: one line per training epoch, from ``scalars.json``.
- :mod:`.demo_train`: the demo's two-stage training step with its per-epoch lines.
- :mod:`.demo_report`: the demo's table and predictions.

Not imported by ``aliprod_plugins`` itself (nothing here is registered).
"""
from .env import ONE_THREAD_ENV, PINNED_ENV, tool_env
from .scalars import (ScalarsTail, is_train_record, last_validation, numeric_metrics, read_metrics,
                      read_scalars, scalars_files)
from .step import Step, StepError, StepRunner, StepTime

__all__ = ['ONE_THREAD_ENV', 'PINNED_ENV', 'ScalarsTail', 'Step', 'StepError', 'StepRunner',
           'StepTime', 'is_train_record', 'last_validation', 'numeric_metrics', 'read_metrics',
           'read_scalars', 'scalars_files', 'tool_env']
