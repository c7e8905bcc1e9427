"""The annotation modules import one way: dispatcher -> parsers -> shared helpers."""
import ast
import os.path as osp

import aliprod_plugins.datasets as datasets_pkg

FOLDER = osp.dirname(datasets_pkg.__file__)


def _relative_imports(module: str) -> set:
    with open(osp.join(FOLDER, module + '.py')) as f:
        tree = ast.parse(f.read())
    return {node.module for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.level == 1}


def test_parsers_import_their_helpers_from_below_not_from_the_dispatcher():
    assert _relative_imports('annotation_utils') == set()
    for parser in ('json_annotation', 'list_annotation'):
        imports = _relative_imports(parser)
        assert 'annotation_utils' in imports and 'annotations' not in imports, parser
    with open(osp.join(FOLDER, 'annotations.py')) as f:
        tree = ast.parse(f.read())
    dispatcher = {alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                  and node.level == 1 and node.module is None for alias in node.names}
    assert {'json_annotation', 'list_annotation'} <= dispatcher


def test_helpers_live_in_annotation_utils():
    from aliprod_plugins.datasets import annotation_utils, json_annotation, list_annotation
    for parser in (json_annotation, list_annotation):
        assert parser.parse_decimal is annotation_utils.parse_decimal
        assert parser.read_bytes is annotation_utils.read_bytes
        assert parser.CHUNK_BYTES == annotation_utils.CHUNK_BYTES == 4 << 20
