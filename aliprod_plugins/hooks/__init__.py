"""Training hooks, registered in MMPretrain's ``HOOKS``.

- ``stage_switch_hook``: ``StageSwitchHook``, decoupled training's second stage inside one run
- ``stage_switch_sampler``: its stage-2 sampler, built and checked, then swapped into the loader
- ``stage_switch_utils``: what it does to the model and optimizer (LR, freeze, head re-init, DDP)
- ``bad_image_hook``: ``BadImageHook``, counts and reports the images the dataset replaced
- ``max_norm_hook``: ``MaxNormHook``, weight balancing's per-class weight-norm projection
"""
from .stage_switch_hook import StageSwitchHook  # noqa: F401
from .bad_image_hook import BadImageHook  # noqa: F401
from .max_norm_hook import MaxNormHook  # noqa: F401
