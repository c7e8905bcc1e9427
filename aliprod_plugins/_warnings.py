"""Silence the one third-party warning every run printed; imported first by ``aliprod_plugins``.

mmcv-lite has no compiled ops, so importing MMPretrain's models makes mmcv warn that
``MultiScaleDeformableAttention`` (a detection op classification never uses) is unavailable.
Exactly that warning is filtered, by message, category and module; all others still show.
"""
import warnings


def silence_mmcv_lite_warning() -> None:
    """Install the filter (idempotent: ``warnings`` replaces an identical filter)."""
    warnings.filterwarnings('ignore', message=r'Fail to import ``MultiScaleDeformableAttention``',
                            category=UserWarning, module=r'mmcv\.cnn\.bricks\.transformer')


silence_mmcv_lite_warning()
