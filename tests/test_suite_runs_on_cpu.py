"""The suite hides GPUs from itself and from the tools it spawns (tests/conftest.py)."""
import os
import subprocess
import sys

import pytest


@pytest.mark.skipif(os.environ.get('ALIPROD_TEST_GPU') == '1', reason='GPUs kept visible')
def test_gpus_are_hidden_from_the_suite_and_its_subprocesses():
    assert os.environ.get('CUDA_VISIBLE_DEVICES') == ''
    code = 'import torch; print(torch.cuda.is_available(), torch.cuda.device_count())'
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ['False', '0']
