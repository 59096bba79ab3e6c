"""Library-wide switches.

``matmul_backend``: ``"numba"`` (the project's own kernel in ``kernels/matmul.py``, the
default) or ``"blas"`` (NumPy's ``@``, i.e. OpenBLAS). Set with
``minisnip.config.set_matmul_backend`` or the environment variable ``MINISNIP_MATMUL``.

With ``"blas"`` the Numba kernels that remain (im2col, pooling, BatchNorm, the recurrent
cells, ...) run on one thread: OpenBLAS keeps its worker threads spinning between calls,
and two thread pools on the same cores slowed a LeNet-5-Caffe step from 29 ms to 76 ms on
2 cores. Switching back to ``"numba"`` restores Numba's thread count.

``keep_freed_memory``: on Linux (glibc), asks malloc at import to keep freed memory for reuse
rather than hand it back to the OS (see the function; ``MINISNIP_KEEP_FREED_MEMORY=0`` before
the import leaves malloc alone).
"""
from __future__ import annotations

import os
import sys

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


M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameters (malloc.h)


def keep_freed_memory() -> bool:
    """Make glibc's malloc keep freed memory for reuse instead of returning it to the OS.

    A convolutional training step allocates and frees large temporaries (im2col's columns and
    their transposes, activations). With glibc's defaults the freed top of the heap is
    trimmed, so the next step touches fresh pages again: a LeNet-5-Caffe step at batch 100
    took ~7,000 page faults (27 MB of pages zeroed by the kernel) every step. With the trim
    threshold at 2 GB and allocations under 32 MB served from the heap, it takes none. The
    cost: freed memory (up to the peak the run reached) stays with the process. Returns
    whether malloc accepted the settings (False off glibc, where nothing is changed).
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes
        libc = ctypes.CDLL("libc.so.6")
        return (libc.mallopt(M_TRIM_THRESHOLD, 2 ** 31 - 1) == 1
                and libc.mallopt(M_MMAP_THRESHOLD, 32 * 2 ** 20) == 1)
    except (OSError, AttributeError):  # not glibc (musl has no mallopt)
        return False


freed_memory_kept = (os.environ.get("MINISNIP_KEEP_FREED_MEMORY", "1") != "0"
                     and keep_freed_memory())
