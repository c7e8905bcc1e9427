"""The environment a tool runs in when the demo or a benchmark starts it as a subprocess.

The variables below are read when torch loads, so only a child process can take them: the
runner (:mod:`.step`) starts every tool with :func:`tool_env`.
"""
import os
from typing import Dict, Mapping, Optional

#: The demo's settings (``tools/run_demo.py``): every machine prints the same table. 40 epochs
#: of SGD amplify rounding differences into points of accuracy.
PINNED_ENV = {
    # one thread: reductions are not split differently on machines with other core counts
    'OMP_NUM_THREADS': '1',
    'MKL_NUM_THREADS': '1',
    # MKL's conditional numerical reproducibility: the AVX2 code path on Intel and AMD alike
    'MKL_CBWR': 'AVX2',
    # ATen's vectorised kernels and oneDNN's (convolutions) at AVX2, not AVX-512 / AMX: every
    # x86-64 CPU since 2013-2015 (Intel Haswell, AMD Excavator / Zen) has it. Pinning lower
    # (ATen 'default', oneDNN SSE41) made a demo training step 3.4x slower (295 vs 86.7 ms
    # CPU per step here), AVX2 costs 1.1x (97.5 ms)
    'ATEN_CPU_CAPABILITY': 'avx2',
    'ONEDNN_MAX_CPU_ISA': 'AVX2',
    'DNNL_MAX_CPU_ISA': 'AVX2',
    # the demo is a CPU demo: a GPU's kernels would give other figures
    'CUDA_VISIBLE_DEVICES': '',
}

#: The benchmarks' settings (``benchmarks/bench_methods.py``): one thread per process, because
#: on a shared machine OpenMP threads that spin-wait for a busy core slow every iteration down.
#: The machine's own instruction sets: the figures measure speed as a user would get it.
ONE_THREAD_ENV = {'OMP_NUM_THREADS': '1', 'MKL_NUM_THREADS': '1'}


def tool_env(settings: Optional[Mapping[str, str]] = None) -> Dict[str, str]:
    """This process's environment, unbuffered (whole lines as they come), with ``settings``.

    Args:
        settings (Mapping[str, str], optional): Variables set over the caller's, e.g.
            :data:`PINNED_ENV` or :data:`ONE_THREAD_ENV`. Defaults to None (none).

    Returns:
        dict: The environment for ``subprocess``.
    """
    return dict(os.environ, PYTHONUNBUFFERED='1', **(settings or {}))
