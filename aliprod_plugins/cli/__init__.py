"""What every tool shares.

- :mod:`.errors`: ``run_tool``, one-line ``tools/X.py: error: ...`` endings with exit code 2
  (``--debug`` / ``ALIPROD_DEBUG=1`` for the traceback);
- :mod:`.cfg_options`: checked ``--cfg-options`` / ``--cfg-options-new`` (closest key named);
- :mod:`.preflight`: ``load_config``, ``check_config_file``, ``check_annotations``: checks
  before the Runner starts.
"""
from .cfg_options import add_cfg_options_args, apply_cfg_options, check_key
from .errors import DEBUG_ENV, USAGE_EXIT_CODE, is_input_error, run_tool
from .preflight import check_annotations, check_config_file, load_config

__all__ = ['DEBUG_ENV', 'USAGE_EXIT_CODE', 'add_cfg_options_args', 'apply_cfg_options',
           'check_annotations', 'check_config_file', 'check_key', 'is_input_error', 'load_config',
           'run_tool']
