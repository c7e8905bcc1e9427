"""aliprod_plugins.hooks."""
from .stage_switch_hook import StageSwitchHook  # noqa: F401
from .bad_image_hook import BadImageHook  # noqa: F401
from .max_norm_hook import MaxNormHook  # noqa: F401
