"""Add MMEngine's ``TensorboardVisBackend`` to a config (``tools/train.py --tensorboard``).

Everything MMEngine's ``LoggerHook`` logs then goes to TensorBoard as well as to
``scalars.json``: per logging interval ``loss``, ``lr``, ``nonfinite_steps``
(``FiniteOptimWrapper``), ``bad_images`` (``BadImageHook``), times; per validation the
``longtail/*`` metrics with their shot groups (``many_shot_acc``, ``medium_shot_acc``,
``few_shot_acc``). Events go to ``WORK_DIR/<timestamp>/vis_data/``::

    python tools/train.py configs/aliprod/resnest50_stage1.py --tensorboard
    tensorboard --logdir work_dirs/resnest50_stage1

In a config, the same is (``default_runtime.py`` defines the LocalVisBackend-only one)::

    visualizer = dict(vis_backends=[dict(type='LocalVisBackend'),
                                    dict(type='TensorboardVisBackend')])
"""
from mmengine.config import Config, ConfigDict

from ..deploy.extras import require

TENSORBOARD_BACKEND = 'TensorboardVisBackend'


def enable_tensorboard(cfg: Config) -> Config:
    """Add ``TensorboardVisBackend`` to ``cfg.visualizer`` (in place; kept if already there).

    Args:
        cfg (Config): A training config.

    Returns:
        Config: ``cfg``.
    """
    # MMEngine's backend falls back to tensorboardX, then fails inside Runner construction;
    # say which extra to install before anything starts
    require('tensorboard', '--tensorboard')
    visualizer = cfg.get('visualizer')
    if visualizer is None:
        visualizer = cfg.visualizer = ConfigDict(type='UniversalVisualizer')
    backends = list(visualizer.get('vis_backends') or [dict(type='LocalVisBackend')])
    if not any(backend.get('type') == TENSORBOARD_BACKEND for backend in backends):
        backends.append(dict(type=TENSORBOARD_BACKEND))
    visualizer['vis_backends'] = backends
    return cfg
