"""Strip a training checkpoint down to what prediction needs, as OpenMMLab's publish_model.py.

    python tools/publish_model.py work_dirs/resnest50_stage1/epoch_40.pth \\
        release/resnest50_aliproducts.pth      # -> release/resnest50_aliproducts-1a2b3c4d.pth

Keeps ``state_dict`` and ``meta`` (``dataset_meta`` with the catalogue's class ids, the config,
versions, epoch); drops the optimizer state (SGD momentum doubles the 50,030-way head), the
message hub, the parameter schedulers and any EMA copy. The first 8 hex digits of the result's
sha256 are appended to OUT's name. The input loads with ``weights_only=True``; the output holds
only tensors and plain Python values, and is written atomically (temporary file, fsync,
rename). It loads in ``tools/test.py``, ``tools/infer.py`` and MMPretrain's inferencer.
"""
import argparse
import hashlib
import io
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import torch  # noqa: E402

from aliprod_plugins.cli import run_tool  # noqa: E402
from aliprod_plugins.engine import safe_load  # noqa: E402
from aliprod_plugins.engine.atomic_io import atomic_write_bytes  # noqa: E402

KEPT = ('state_dict', 'meta')


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Publish a checkpoint for prediction')
    parser.add_argument('in_file', help='checkpoint written by tools/train.py')
    parser.add_argument('out_file', help='output name ending in .pth; the sha256 prefix is '
                        'appended (OUT.pth -> OUT-xxxxxxxx.pth)')
    args = parser.parse_args(argv)
    if not args.out_file.endswith('.pth'):
        parser.error(f'out_file must end in .pth, got {args.out_file!r}')
    return args


def publish(in_file: str, out_file: str) -> str:
    """Write the published checkpoint and return its final path.

    Args:
        in_file (str): Training checkpoint.
        out_file (str): Output name ``NAME.pth``; the file written is ``NAME-<sha8>.pth``.

    Returns:
        str: The path written.

    Raises:
        ValueError: The input has no ``state_dict`` or no ``meta['dataset_meta']['classes']``
            (the class ids that predictions are reported in).
    """
    checkpoint = safe_load(in_file, map_location='cpu')
    if not isinstance(checkpoint, dict) or 'state_dict' not in checkpoint:
        raise ValueError(f'{in_file}: expected an MMEngine checkpoint with a state_dict, got '
                         f'keys {sorted(checkpoint) if isinstance(checkpoint, dict) else []}')
    meta = dict(checkpoint.get('meta') or {})
    if not (meta.get('dataset_meta') or {}).get('classes'):
        raise ValueError(f"{in_file}: expected meta['dataset_meta']['classes'] (the class ids "
                         'predictions are reported in), as tools/train.py saves them; not found')
    published = dict(state_dict=checkpoint['state_dict'], meta=meta)
    buffer = io.BytesIO()
    torch.save(published, buffer)
    data = buffer.getvalue()
    final = f'{osp.splitext(out_file)[0]}-{hashlib.sha256(data).hexdigest()[:8]}.pth'
    atomic_write_bytes(final, data)
    dropped = sorted(set(checkpoint) - set(KEPT))
    print(f'{final}: {len(data) / 2**20:.1f} MiB (input {osp.getsize(in_file) / 2**20:.1f} MiB); '
          f'kept {", ".join(KEPT)}; dropped {", ".join(dropped) or "nothing"}', flush=True)
    return final


def main(argv=None) -> None:
    args = parse_args(argv)
    publish(args.in_file, args.out_file)


if __name__ == '__main__':
    run_tool(main)
