"""What every tool shares.

- :mod:`.errors`: ``run_tool``, one-line ``tools/X.py: error: ...`` endings with exit code 2
  (``--debug`` / ``ALIPROD_DEBUG=1`` for the traceback);
- :mod:`.cfg_options`: checked ``--cfg-options`` / ``--cfg-options-new`` (closest key named);
- :mod:`.preflight`: ``load_config``, ``check_config_file``, ``check_annotations``: checks
  before the Runner starts;
- :mod:`.args`: the flags several tools share (config and checkpoint, device, launcher, shot
  thresholds) and ``check_flag`` (a bad value as argparse's usage error);
- :mod:`.model`: ``load_model``, the model of a config with a checkpoint loaded strictly through
  the weights-only allowlist.
"""
from .args import (CHECKPOINT_HELP, add_device_arg, add_launcher_args, add_model_args,
                   add_shot_args, check_flag, parse_launcher_args)
from .cfg_options import add_cfg_options_args, apply_cfg_options, check_key
from .errors import DEBUG_ENV, USAGE_EXIT_CODE, is_input_error, run_tool
from .model import load_model
from .preflight import check_annotations, check_config_file, load_config

__all__ = ['CHECKPOINT_HELP', 'DEBUG_ENV', 'USAGE_EXIT_CODE', 'add_cfg_options_args',
           'add_device_arg', 'add_launcher_args', 'add_model_args', 'add_shot_args',
           'apply_cfg_options', 'check_annotations', 'check_flag', 'check_config_file', 'check_key',
           'is_input_error', 'load_config', 'load_model', 'parse_launcher_args', 'run_tool']
