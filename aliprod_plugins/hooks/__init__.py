"""Training hooks, registered in MMPretrain's ``HOOKS``.

- :mod:`.stage_switch_hook`: ``StageSwitchHook``, the switch to stage 2 in the same run
  (sampler, lr, frozen parts; resume-safe), with :mod:`.stage_switch_utils`;
- :mod:`.bad_image_hook`: ``BadImageHook``, ``bad_images`` in every training log line;
- :mod:`.max_norm_hook`: ``MaxNormHook``, weight balancing's per-class norm bound.
"""
from .stage_switch_hook import StageSwitchHook  # noqa: F401
from .bad_image_hook import BadImageHook  # noqa: F401
from .max_norm_hook import MaxNormHook  # noqa: F401
