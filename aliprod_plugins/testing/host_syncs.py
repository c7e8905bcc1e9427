"""Count the calls that would stall a GPU: a tensor's value read on the host.

On CUDA every ``Tensor.item()``, ``tolist()``, ``bool(t)``, ``float(t)``, ``int(t)`` of a device
tensor waits for the queued kernels (a host synchronisation); ``torch.cuda.set_sync_debug_mode``
reports them. A CPU has no such wait, so on CPU this probe counts the same Python-level calls
(on whatever device the tensor lives) and where they come from::

    with HostSyncProbe() as probe:
        train_some_iterations()
    probe.total, probe.by_origin()   # {'aliprod_plugins/engine/...py:123': n, ...}

The origin of a call is the innermost frame outside torch (the code that asked for the value),
so a sync inside ``torch.nn.utils`` is charged to its caller. C++ reads (inside torch ops) are
not seen; on a GPU those are what ``set_sync_debug_mode`` adds.
"""
import os.path as osp
import sys
from collections import Counter
from typing import Dict, Optional

import torch

#: the Tensor methods whose Python-level calls read a value on the host
PROBED = ('item', 'tolist', '__bool__', '__float__', '__int__')
_TORCH_DIR = osp.dirname(torch.__file__)


class HostSyncProbe:
    """Context manager counting host reads of tensor values, by origin ``path:line``.

    Args:
        root (str, optional): Origins under this folder are shown relative to it (the
            repository root); others keep their absolute path. Defaults to None.
        enabled (bool): Patch the methods. Off under ``torch.compile``, whose tracer cannot
            follow the probe (``sys._getframe``) and would break graphs. Defaults to True.
    """

    def __init__(self, root: Optional[str] = None, enabled: bool = True) -> None:
        self.root = root
        self.enabled = enabled
        self.calls: Counter = Counter()
        self._saved: Dict[str, object] = {}

    @property
    def total(self) -> int:
        """Calls counted so far."""
        return sum(self.calls.values())

    def by_origin(self) -> Dict[str, int]:
        """Counts per origin ``path:line``, most frequent first."""
        return dict(self.calls.most_common())

    def count_under(self, fragment: str) -> int:
        """Calls whose origin path contains ``fragment`` (e.g. ``'aliprod_plugins'``)."""
        return sum(n for origin, n in self.calls.items() if fragment in origin)

    def reset(self) -> None:
        """Forget the counts (the probe stays installed)."""
        self.calls.clear()

    def __enter__(self) -> 'HostSyncProbe':
        for name in PROBED if self.enabled else ():
            original = getattr(torch.Tensor, name)
            self._saved[name] = torch.Tensor.__dict__.get(name)
            setattr(torch.Tensor, name, self._wrap(original))
        return self

    def __exit__(self, *exc) -> None:
        for name, saved in self._saved.items():
            if saved is None:
                delattr(torch.Tensor, name)  # it was inherited from torch._C.TensorBase
            else:
                setattr(torch.Tensor, name, saved)
        self._saved.clear()

    def _wrap(self, original):
        probe = self

        def counted(tensor, *args, **kwargs):
            probe.calls[probe._origin()] += 1
            return original(tensor, *args, **kwargs)

        return counted

    def _origin(self) -> str:
        frame = sys._getframe(2)  # the caller of the probed method
        while frame is not None and frame.f_code.co_filename.startswith(_TORCH_DIR):
            frame = frame.f_back
        if frame is None:
            return '?'
        path = frame.f_code.co_filename
        if self.root and path.startswith(self.root):
            path = osp.relpath(path, self.root)
        return f'{path}:{frame.f_lineno}'
