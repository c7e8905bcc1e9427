"""tools/infer.py --backend onnxruntime: the PyTorch backend's CSV, from an exported model."""
import csv
import importlib.util
import os.path as osp
import shutil
import sys

import pytest
from conftest import REPO_ROOT, run_tool
from deploy_fixtures import CLASSES, onnx_demo_fixture  # noqa: F401

pytest.importorskip('onnxruntime',
                    reason="onnxruntime is in the [deploy] extra: pip install -e '.[deploy]'")

INFER = osp.join(REPO_ROOT, 'tools', 'infer.py')


def read_csv(path):
    with open(path, newline='') as f:
        return list(csv.reader(f))


def infer(onnx_demo, out, *extra, check=True):
    inputs = [*onnx_demo['images'], str(onnx_demo['folder'] / 'root' / 'val'),
              str(onnx_demo['folder'] / 'missing.png'), str(onnx_demo['folder'] / 'bad.jpg')]
    return run_tool([sys.executable, INFER, onnx_demo['cfg'], onnx_demo['ckpt'], *inputs,
                     '--out', str(out), '--topk', '3', '--batch-size', '4',
                     '--num-workers', '0', *extra], check=check)


def test_onnxruntime_writes_the_pytorch_csv(onnx_demo, tmp_path):
    (onnx_demo['folder'] / 'bad.jpg').write_bytes(b'\xff\xd8\xff\xe0 truncated')
    infer(onnx_demo, tmp_path / 'torch.csv')
    proc = infer(onnx_demo, tmp_path / 'onnx.csv', '--backend', 'onnxruntime',
                 '--onnx', onnx_demo['out'])
    assert 'images predicted (top-3, onnxruntime), 2 failed to load' in proc.stdout
    expected, got = read_csv(tmp_path / 'torch.csv'), read_csv(tmp_path / 'onnx.csv')
    assert got[0] == expected[0] == ['path', 'pred_1', 'score_1', 'pred_2', 'score_2',
                                     'pred_3', 'score_3', 'error']
    assert len(got) == len(expected) == 1 + 5 + 8 + 2
    for want, row in zip(expected[1:], got[1:]):
        assert row[0] == want[0] and row[-1] == want[-1]  # path, error
        assert row[1:-1:2] == want[1:-1:2]  # class ids, in order
        assert row[1] in CLASSES or (row[-1] and row[1:-1] == [''] * 6)
        for score, want_score in zip(row[2:-1:2], want[2:-1:2]):
            assert (score == want_score == '') or abs(float(score) - float(want_score)) <= 2e-6
    assert [r[-1] for r in got[-2:]] == ['file not found', got[-1][-1]] and got[-1][-1]
    assert len({r[1] for r in got[1:14]}) > 1  # not one class for every image


def test_onnxruntime_refuses_another_checkpoint_or_config(onnx_demo, tmp_path):
    other = tmp_path / 'other.pth'
    shutil.copy(onnx_demo['ckpt'], other)
    with open(other, 'ab') as f:
        f.write(b'\0')
    proc = run_tool([sys.executable, INFER, onnx_demo['cfg'], str(other), onnx_demo['images'][0],
                     '--out', str(tmp_path / 'x.csv'), '--backend', 'onnxruntime',
                     '--onnx', onnx_demo['out']], check=False)
    assert proc.returncode != 0 and 'expected the same checkpoint' in proc.stderr
    proc = infer(onnx_demo, tmp_path / 'y.csv', '--backend', 'onnxruntime', '--onnx',
                 onnx_demo['out'], '--cfg-options',
                 'test_dataloader.dataset.pipeline.2.crop_size=20', check=False)
    assert proc.returncode != 0 and 'differs from the one' in proc.stderr
    assert not (tmp_path / 'x.csv').exists() and not (tmp_path / 'y.csv').exists()


@pytest.mark.parametrize('flags, message', [
    (['--backend', 'onnxruntime'], '--backend onnxruntime and --onnx go together'),
    (['--onnx', 'm.onnx'], '--backend onnxruntime and --onnx go together'),
    (['--backend', 'onnxruntime', '--onnx', 'm.onnx', '--tta'], 'expected no --tta'),
])
def test_backend_flags_are_checked(flags, message, capsys):
    spec = importlib.util.spec_from_file_location('aliprod_tools_infer_onnx', INFER)
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    with pytest.raises(SystemExit):
        tool.parse_args(['c.py', 'k.pth', 'x.jpg', *flags])
    assert message in capsys.readouterr().err
