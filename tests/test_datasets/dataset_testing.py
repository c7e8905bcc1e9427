"""Helpers and fixtures of the dataset tests: a small root in the released layout, a log recorder.

Test modules import the fixtures by their function names (``layout_root_fixture``, ...); pytest
registers them under their ``name`` (``layout_root``, ``log_messages``).
"""
import json
import logging
import os.path as osp

import pytest
from mmengine.logging import MMLogger

from aliprod_plugins.testing import make_aliproducts_root

#: Images per class; class 1 and 4 have no training image, class 3 no validation image.
TRAIN_COUNTS = [4, 0, 6, 2, 0]
VAL_COUNTS = [1, 2, 1, 0, 1]
NUM_TEST = 3


@pytest.fixture(scope='session', name='layout_root')
def layout_root_fixture(tmp_path_factory) -> str:
    """Five classes in the AliProducts layout, with classes absent from a split."""
    root = tmp_path_factory.mktemp('aliproducts_layout')
    return make_aliproducts_root(
        str(root), TRAIN_COUNTS, VAL_COUNTS, num_test=NUM_TEST, size=(8, 8))


def read_entries(root: str, split: str) -> list:
    with open(osp.join(root, f'{split}.json')) as f:
        return json.load(f)['images']


def write_text(path, text: str) -> str:
    with open(path, 'w', encoding='utf-8') as f:
        f.write(text)
    return str(path)


def write_json(path, entries) -> str:
    return write_text(path, json.dumps({'images': entries}))


@pytest.fixture(name='log_messages')
def log_messages_fixture():
    """Messages logged through ``MMLogger.get_current_instance()`` during the test."""
    messages = []

    class _Recorder(logging.Handler):

        def emit(self, record: logging.LogRecord) -> None:
            messages.append(record.getMessage())

    logger = MMLogger.get_current_instance()
    handler = _Recorder(level=logging.DEBUG)
    logger.addHandler(handler)
    yield messages
    logger.removeHandler(handler)
