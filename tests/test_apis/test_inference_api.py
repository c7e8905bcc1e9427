"""MMPretrain's inference API (ImageClassificationInferencer, inference_model, get_model) on
our configs: file paths and BGR arrays, the test pipeline's preprocessing, catalogue class ids."""
import glob
import os.path as osp

import mmcv
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import Compose, pseudo_collate
from mmengine.registry import DefaultScope
from mmpretrain import ImageClassificationInferencer, get_model, inference_model
from mmpretrain.registry import TRANSFORMS
from PIL import Image

from aliprod_plugins.apis import tta_settings
from aliprod_plugins.testing.tiny_checkpoint import REPO_ROOT, tiny_predict_setup

CLASSES = ('10007', '10011', '20013', '49999')
ALL_CONFIGS = sorted(p for p in glob.glob(osp.join(REPO_ROOT, 'configs', '*', '*.py'))
                     if '_base_' not in p)


@pytest.fixture(scope='module')
def setup(tmp_path_factory, tiny_root):
    folder = tmp_path_factory.mktemp('inference_api')
    cfg, ckpt = tiny_predict_setup(str(folder), tiny_root, CLASSES)
    rng = np.random.default_rng(0)
    # a 200x256 JPEG: LoadImageScaled(min_size=32) decodes it at 1/4 scale (DCT), unlike cv2
    ramp = np.linspace(0, 255, 256)[None, :, None] * np.ones((200, 1, 3))
    big = np.clip(ramp + rng.integers(-60, 61, size=(200, 256, 3)), 0, 255).astype(np.uint8)
    Image.fromarray(big).save(folder / 'big.jpg', quality=90)
    Image.fromarray(big[60:100, 100:148]).save(folder / 'small.png')
    paths = sorted(glob.glob(osp.join(tiny_root, 'val', '*', '*.jpg')))[:6]
    return dict(cfg=cfg, ckpt=ckpt, folder=folder,
                paths=paths + [str(folder / 'big.jpg'), str(folder / 'small.png')])


def reference_scores(cfg_path, ckpt, paths):
    """Scores as tools/test.py computes them: the dataset's test pipeline, model.test_step."""
    cfg = Config.fromfile(cfg_path)
    model = get_model(cfg, pretrained=ckpt, device='cpu')
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        pipeline = Compose([TRANSFORMS.build(t) for t in cfg.test_dataloader.dataset.pipeline])
    batch = pseudo_collate([pipeline(dict(img_path=p)) for p in paths])
    with torch.no_grad():
        return torch.stack([s.pred_score for s in model.test_step(batch)]).numpy()


def test_inferencer_on_paths_matches_the_test_pipeline(setup):
    expected = reference_scores(setup['cfg'], setup['ckpt'], setup['paths'])
    inferencer = ImageClassificationInferencer(setup['cfg'], pretrained=setup['ckpt'],
                                               device='cpu')
    results = inferencer(setup['paths'], batch_size=3)
    scores = np.stack([r['pred_scores'] for r in results])
    np.testing.assert_allclose(scores, expected, rtol=0, atol=1e-6)
    # pred_class is the catalogue id stored in the checkpoint's dataset_meta
    assert [r['pred_class'] for r in results] == [CLASSES[i] for i in expected.argmax(1)]
    assert len({r['pred_class'] for r in results}) > 1  # the check sees different outputs


def test_inferencer_on_bgr_arrays(setup):
    inferencer = ImageClassificationInferencer(setup['cfg'], pretrained=setup['ckpt'],
                                               device='cpu')
    png = str(setup['folder'] / 'small.png')
    bgr = mmcv.imread(png)  # as MMPretrain documents: BGR uint8
    by_path, by_array, by_gray = inferencer([png, bgr, bgr[..., 0]])
    np.testing.assert_allclose(by_array['pred_scores'], by_path['pred_scores'], atol=1e-6)
    gray3 = inferencer(np.repeat(bgr[..., :1], 3, axis=2))[0]
    np.testing.assert_allclose(by_gray['pred_scores'], gray3['pred_scores'], atol=1e-6)
    with pytest.raises(ValueError, match=r'uint8 BGR .* got float32 array of shape'):
        inferencer(bgr.astype(np.float32))


def test_get_model_and_inference_model(setup):
    model = get_model(setup['cfg'], pretrained=setup['ckpt'], device='cpu')
    assert tuple(model._dataset_meta['classes']) == CLASSES
    expected = reference_scores(setup['cfg'], setup['ckpt'], setup['paths'][-2:])
    for path, scores in zip(setup['paths'][-2:], expected):
        result = inference_model(model, path)
        np.testing.assert_allclose(result['pred_scores'], scores, atol=1e-6)
        assert result['pred_class'] == CLASSES[int(scores.argmax())]
    array_result = inference_model(model, mmcv.imread(setup['paths'][-1]))
    np.testing.assert_allclose(array_result['pred_scores'], expected[-1], atol=1e-6)


@pytest.mark.parametrize('config', ALL_CONFIGS, ids=lambda p: osp.relpath(p, REPO_ROOT))
def test_every_config_pipeline_takes_paths_arrays_and_flip_tta(config, setup):
    cfg = Config.fromfile(config)
    for key in ('tta_model', 'tta_pipeline'):
        assert key in cfg, (f'{config} defines no {key}: add flip TTA as in '
                            'configs/_base_/datasets/digits_lt_bs32_24.py')
    inferencer = object.__new__(ImageClassificationInferencer)  # the pipeline part only
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        inferencer.pipeline = inferencer._init_pipeline(cfg)
        _, tta_cfg = tta_settings(cfg)
        tta = Compose([TRANSFORMS.build(t) for t in tta_cfg])
    png = str(setup['folder'] / 'small.png')
    (batch, ) = inferencer.preprocess([png, mmcv.imread(png)], batch_size=2)
    by_path, by_array = batch['inputs']
    assert torch.equal(by_path, by_array)
    views = tta(dict(img_path=png))['inputs']
    assert len(views) == 2 and torch.equal(views[0], by_path)
    assert torch.equal(views[1], by_path.flip(-1))  # the horizontal mirror


@pytest.mark.parametrize('config', [p for p in ALL_CONFIGS if '/demo/' in p],
                         ids=lambda p: osp.basename(p))
def test_every_demo_config_predicts_through_the_inferencer(config, setup, tmp_path):
    """Each demo model (heads, losses included) runs in the inferencer with its class ids."""
    model = get_model(config)
    classes = tuple(f'{i:05d}' for i in range(model.head.num_classes))
    torch.save({'state_dict': model.state_dict(),
                'meta': {'dataset_meta': {'classes': classes}}}, tmp_path / 'ckpt.pth')
    inferencer = ImageClassificationInferencer(config, pretrained=str(tmp_path / 'ckpt.pth'),
                                               device='cpu')
    result = inferencer(str(setup['folder'] / 'small.png'))[0]
    assert result['pred_scores'].shape == (len(classes), )
    assert result['pred_class'] == classes[int(result['pred_scores'].argmax())]
