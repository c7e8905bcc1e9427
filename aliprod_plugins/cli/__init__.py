"""What every tool shares: one-line errors, checked ``--cfg-options``, checks before the Runner."""
from .cfg_options import add_cfg_options_args, apply_cfg_options, check_key
from .errors import DEBUG_ENV, USAGE_EXIT_CODE, is_input_error, run_tool
from .preflight import check_annotations, check_config_file, load_config

__all__ = ['DEBUG_ENV', 'USAGE_EXIT_CODE', 'add_cfg_options_args', 'apply_cfg_options',
           'check_annotations', 'check_config_file', 'check_key', 'is_input_error', 'load_config',
           'run_tool']
