"""Test-time augmentation settings of a config, as MMPretrain's ``tools/test.py --tta``."""
import copy
from typing import List, Tuple

from mmengine.config import Config, ConfigDict


def tta_settings(cfg: Config) -> Tuple[dict, List[dict]]:
    """Return ``(tta_model, tta_pipeline)`` of ``cfg``, with MMPretrain's defaults.

    Configs here define both (``configs/_base_/datasets/*.py``: the scores of the image and
    its horizontal mirror averaged by ``AverageClsScoreTTA``). A config without them gets
    what MMPretrain's ``tools/test.py --tta`` builds: ``AverageClsScoreTTA`` and the test
    pipeline whose last step (``PackInputs``) becomes a ``TestTimeAug`` over a flipped and an
    unflipped copy.

    Args:
        cfg (Config): The config.

    Returns:
        tuple: The TTA model config (without ``module``) and the TTA pipeline config.
    """
    tta_model = copy.deepcopy(cfg.get('tta_model') or dict(type='AverageClsScoreTTA'))
    tta_pipeline = cfg.get('tta_pipeline')
    if tta_pipeline is None:
        test_pipeline = cfg.test_dataloader.dataset.pipeline
        tta_pipeline = copy.deepcopy(test_pipeline)
        tta_pipeline[-1] = dict(
            type='TestTimeAug',
            transforms=[[dict(type='RandomFlip', prob=1.), dict(type='RandomFlip', prob=0.)],
                        [test_pipeline[-1]]])
    return ConfigDict(tta_model), copy.deepcopy(tta_pipeline)


def apply_tta(cfg: Config) -> Config:
    """Wrap ``cfg.model`` in the TTA model and test with the TTA pipeline (in place).

    Args:
        cfg (Config): A config about to be run by ``Runner.test()``.

    Returns:
        Config: ``cfg``.
    """
    tta_model, tta_pipeline = tta_settings(cfg)
    cfg.model = ConfigDict(**tta_model, module=cfg.model)
    cfg.test_dataloader.dataset.pipeline = tta_pipeline
    return cfg
