"""Library-wide settings, and the process-wide tunings a minisnip program may ask for.

Importing minisnip changes nothing outside minisnip (DESIGN principle 10): no thread count,
no malloc setting. What is process-wide is an explicit call here, made by the ``minisnip``
command and by ``minisnip.train.run`` (:func:`tune_process`), or by you.

``get_matmul_backend()`` / ``set_matmul_backend(name)``: ``"numba"`` (the project's own
kernels in ``kernels/matmul.py``, the default) or ``"blas"`` (NumPy's ``@``, i.e. OpenBLAS).
Until ``set_matmul_backend`` is called, the environment variable ``MINISNIP_MATMUL`` decides,
read (and checked) at the first product, not at import. The choice is applied in one place,
``minisnip/ops/linalg.py``. Switching changes nothing else: Numba's thread count is yours.

Every environment variable minisnip reads is listed in DESIGN.md, "Environment variables".
"""
from __future__ import annotations

import os
import sys

BACKENDS = ("numba", "blas")
_matmul_backend = None  # None until set, or until MINISNIP_MATMUL is read at the first product


def get_matmul_backend() -> str:
    """``"numba"`` or ``"blas"``: what ``set_matmul_backend`` set, else ``MINISNIP_MATMUL``
    (default ``"numba"``). A bad ``MINISNIP_MATMUL`` is a ValueError here, at first use."""
    global _matmul_backend
    if _matmul_backend is None:
        requested = os.environ.get("MINISNIP_MATMUL", "numba")
        if requested not in BACKENDS:
            raise ValueError(f"MINISNIP_MATMUL={requested!r}: expected one of {BACKENDS} "
                             f"(or unset, which means 'numba')")
        _matmul_backend = requested
    return _matmul_backend


def set_matmul_backend(name: str) -> None:
    """Compute every matrix product with ``"numba"`` (the Numba kernels) or ``"blas"``
    (NumPy's ``@``). Only the products change; see :func:`tune_process` for the thread
    count that suits the BLAS backend."""
    global _matmul_backend
    if name not in BACKENDS:
        raise ValueError(f"matmul backend {name!r}: expected one of {BACKENDS}")
    _matmul_backend = name


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


def tune_process() -> dict:
    """The process-wide tunings of a training program, made explicitly (the ``minisnip``
    command and ``minisnip.train.run`` call this; nothing calls it at import):

    * malloc keeps freed memory (:func:`keep_freed_memory`), unless
      ``MINISNIP_KEEP_FREED_MEMORY=0``;
    * the matmul backend is resolved now, so that a bad ``MINISNIP_MATMUL`` stops the run
      before any work;
    * with the ``"blas"`` backend, Numba's kernels run on one thread (OpenBLAS keeps its
      worker threads spinning between calls, and two thread pools on the same cores slowed a
      LeNet-5-Caffe step about 2.5x on 2 cores), unless you chose a count yourself: by
      ``NUMBA_NUM_THREADS`` or by ``numba.set_num_threads`` before this call.

    Returns what it did: ``freed_memory_kept``, ``matmul_backend``, ``numba_threads``.
    Calling it again changes nothing more.
    """
    import numba
    kept = os.environ.get("MINISNIP_KEEP_FREED_MEMORY", "1") != "0" and keep_freed_memory()
    backend = get_matmul_backend()
    untouched = numba.get_num_threads() == numba.config.NUMBA_NUM_THREADS
    if backend == "blas" and "NUMBA_NUM_THREADS" not in os.environ and untouched:
        numba.set_num_threads(1)
    return dict(freed_memory_kept=kept, matmul_backend=backend,
                numba_threads=numba.get_num_threads())
