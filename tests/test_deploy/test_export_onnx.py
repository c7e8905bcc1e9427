"""tools/export_onnx.py end to end: model.json, the parity check, heads, ResNeSt, failures."""
import json
import os
import os.path as osp
import sys

import numpy as np
import pytest
import torch
from conftest import REPO_ROOT, run_tool
from deploy_fixtures import CLASSES, EXPORT, colour_images, onnx_demo_fixture, sha256  # noqa: F401
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmpretrain.registry import MODELS

from aliprod_plugins.testing.tiny_checkpoint import write_untrained_checkpoint

ort = pytest.importorskip('onnxruntime',
                          reason="onnxruntime is in the [deploy] extra: pip install -e '.[deploy]'")
pytest.importorskip('onnxscript', reason="the [deploy] extra: pip install -e '.[deploy]'")


def test_model_json_holds_what_a_server_needs(onnx_demo):
    with open(osp.join(osp.dirname(onnx_demo['out']), 'model.json')) as f:
        meta = json.load(f)
    assert meta['classes'] == list(CLASSES)
    assert meta['input']['shape'] == ['batch', 3, 24, 24]
    # the loader decodes BGR, the demo's data_preprocessor has to_rgb=True
    assert (meta['input']['decoded_order'], meta['input']['channel_order']) == ('BGR', 'RGB')
    assert meta['input']['mean'] == [127.5] * 3 and meta['input']['std'] == [127.5] * 3
    assert meta['output']['shape'] == ['batch', 4] and meta['opset'] == 18
    assert meta['config']['sha256'] == sha256(onnx_demo['cfg'])
    assert meta['checkpoint']['sha256'] == sha256(onnx_demo['ckpt'])
    assert meta['test_pipeline'][-2] == {'type': 'CenterCrop', 'crop_size': 24}
    check = meta['check']
    assert (check['images'], check['top1_agree'], check['generated']) == (5, 5, False)
    assert check['max_abs_prob_diff'] <= 1e-4
    assert 'top-1 identical 5/5, max |prob diff|' in onnx_demo['proc'].stdout
    assert sorted(os.listdir(osp.dirname(onnx_demo['out']))) == ['model.json', 'model.onnx']


def test_onnx_graph_matches_pytorch_on_the_torch_preprocessing(onnx_demo):
    """The graph alone, fed by MMPretrain's own data preprocessor at batch 3 and 1."""
    from aliprod_plugins.apis import Predictor
    from aliprod_plugins.apis.predictor import collate
    predictor = Predictor(onnx_demo['cfg'], onnx_demo['ckpt'], device='cpu')
    items = [dict(index=i, data=predictor.pipeline(dict(img_path=p)))
             for i, p in enumerate(onnx_demo['images'][:3])]
    _, batch, _ = collate(items)
    with torch.no_grad():
        inputs = predictor.model.data_preprocessor(batch)['inputs'].numpy()
        expected = torch.stack([s.pred_score for s in predictor.model.test_step(batch)]).numpy()
    session = ort.InferenceSession(onnx_demo['out'], providers=['CPUExecutionProvider'])
    assert [i.name for i in session.get_inputs()] == ['input']
    got = session.run(None, {'input': inputs})[0]
    np.testing.assert_allclose(got, expected, atol=1e-5, rtol=0)
    assert got[0].std() > 0.05  # the scores differ between classes: the comparison means much
    np.testing.assert_allclose(session.run(None, {'input': inputs[:1]})[0], expected[:1],
                               atol=1e-5, rtol=0)


def test_a_failed_check_writes_nothing_and_names_the_difference(onnx_demo, tmp_path,
                                                                monkeypatch):
    """The model checked against another checkpoint (seed 1) than the one exported (seed 0)."""
    import importlib.util

    from aliprod_plugins.deploy import onnx_export
    other = write_untrained_checkpoint(str(tmp_path / 'seed1.pth'), onnx_demo['cfg'], CLASSES,
                                       seed=1)
    monkeypatch.setattr(onnx_export, 'export_onnx',
                        lambda model, path, *args: open(path, 'wb').write(
                            open(onnx_demo['out'], 'rb').read()))
    spec = importlib.util.spec_from_file_location('aliprod_tools_export_onnx', EXPORT)
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    out = tmp_path / 'out' / 'model.onnx'
    with pytest.raises(ValueError, match=r'largest \|prob diff\| \S+ \(allowed 0.0001\) on '
                       r'.*c\d\.(png|jpg) class index \d'):
        tool.main([onnx_demo['cfg'], other, '--out', str(out), '--check', *onnx_demo['images']])
    assert os.listdir(tmp_path / 'out') == []


def test_resnest_with_lws_head_fixed_batch(tmp_path):
    """A narrow ResNeSt-50 of the recipe (split attention) with LWSHead's learnt scales."""
    cfg = Config.fromfile(osp.join(REPO_ROOT, 'configs', 'aliprod', 'resnest50_stage2_lws.py'))
    cfg.merge_from_dict({'model.backbone.stem_channels': 8, 'model.backbone.base_channels': 8,
                         'model.head.in_channels': 256, 'model.head.num_classes': 5,
                         'data_preprocessor.num_classes': 5})
    cfg.dump(str(tmp_path / 'tiny_resnest_lws.py'))
    classes = ('a', 'b', 'c', 'd', 'e')
    torch.manual_seed(0)
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        model = MODELS.build(dict(cfg.model, data_preprocessor=cfg.data_preprocessor))
    state_dict = model.state_dict()
    state_dict['head.scales'] = torch.tensor([40., -30., 5., 60., -10.])  # learnt, not 1
    ckpt = str(tmp_path / 'lws.pth')
    torch.save({'meta': {'dataset_meta': {'classes': classes}}, 'state_dict': state_dict}, ckpt)
    out = tmp_path / 'lws' / 'resnest.onnx'
    images = colour_images(str(tmp_path / 'imgs'), count=3)
    proc = run_tool([sys.executable, EXPORT, str(tmp_path / 'tiny_resnest_lws.py'), ckpt,
                     '--out', str(out), '--check', *images])
    assert 'ResNeSt + LWSHead (5 classes, input [1, 3, 112, 112]' in proc.stdout
    meta = json.loads((tmp_path / 'lws' / 'resnest.json').read_text())
    assert meta['classes'] == list(classes) and meta['input']['shape'] == [1, 3, 112, 112]
    assert meta['input']['mean'] == pytest.approx([123.675, 116.28, 103.53])
    assert meta['check']['top1_agree'] == 3 and meta['check']['max_abs_prob_diff'] <= 1e-4
    session = ort.InferenceSession(str(out), providers=['CPUExecutionProvider'])
    assert session.get_inputs()[0].shape == [1, 3, 112, 112]


def test_missing_package_is_one_line_naming_the_extra(tmp_path):
    fake = tmp_path / 'fake' / 'onnxruntime'
    fake.mkdir(parents=True)
    (fake / '__init__.py').write_text("raise ImportError('not installed (test)')\n")
    env_path = f'{tmp_path / "fake"}{os.pathsep}{REPO_ROOT}'
    proc = run_tool(['env', f'PYTHONPATH={env_path}', sys.executable, EXPORT, 'cfg.py', 'x.pth',
                     '--out', str(tmp_path / 'm.onnx')], check=False)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "tools/export_onnx.py: error: tools/export_onnx.py needs the 'onnxruntime' package, "
        "which is not installed (not installed (test)): pip install -e '.[deploy]'"]
    assert not (tmp_path / 'm.onnx').exists()
