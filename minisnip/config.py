"""Library-wide switches.

``matmul_backend``: ``"numba"`` (the project's own kernel in ``kernels/matmul.py``, the
default) or ``"blas"`` (NumPy's ``@``, i.e. OpenBLAS). Set with
``minisnip.config.set_matmul_backend`` or the environment variable ``MINISNIP_MATMUL``.

With ``"blas"`` the Numba kernels that remain (im2col, pooling, BatchNorm, the recurrent
cells, ...) run on one thread: OpenBLAS keeps its worker threads spinning between calls,
and two thread pools on the same cores slowed a LeNet-5-Caffe step from 29 ms to 76 ms on
2 cores. Switching back to ``"numba"`` restores Numba's thread count.
"""
from __future__ import annotations

import os

_BACKENDS = ("numba", "blas")
matmul_backend = "numba"
_numba_threads = None  # Numba's thread count before the BLAS backend took the cores


def set_matmul_backend(name: str) -> None:
    global matmul_backend, _numba_threads
    if name not in _BACKENDS:
        raise ValueError(f"matmul backend {name!r}: expected one of {_BACKENDS}")
    import numba
    if name == "blas" and matmul_backend != "blas":
        _numba_threads = numba.get_num_threads()
        numba.set_num_threads(1)
    elif name == "numba" and matmul_backend == "blas" and _numba_threads:
        numba.set_num_threads(_numba_threads)
    matmul_backend = name


_requested = os.environ.get("MINISNIP_MATMUL", "numba")
if _requested not in _BACKENDS:
    raise ValueError(f"MINISNIP_MATMUL={_requested!r}: expected one of {_BACKENDS}")
if _requested != "numba":
    set_matmul_backend(_requested)
