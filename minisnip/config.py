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

import contextlib
import os
import sys
import time
from typing import Optional

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


# ----------------------------------------------------------------- threads that pay under load
MIN_WINDOW = 0.25  # seconds: /proc/stat counts in ticks of 10 ms, a shorter window says little


class LoadWatch:
    """The CPU that *other* processes use on this machine, in cores, since ``start()``: the
    machine's busy time (``/proc/stat``) minus this process's own CPU time (all its threads),
    over the wall time. ``others()`` is None where ``/proc/stat`` cannot be read (not Linux)
    or when less than ``MIN_WINDOW`` has passed.
    """

    def __init__(self):
        self.start()

    def start(self) -> None:
        self._machine, self._own, self._wall = machine_busy_seconds(), _own_cpu_seconds(), \
            time.monotonic()

    def others(self) -> Optional[float]:
        machine, own, wall = machine_busy_seconds(), _own_cpu_seconds(), time.monotonic()
        if machine is None or self._machine is None or wall - self._wall < MIN_WINDOW:
            return None
        return max(0.0, ((machine - self._machine) - (own - self._own)) / (wall - self._wall))


def machine_busy_seconds() -> Optional[float]:
    """Seconds of CPU the whole machine has been busy since boot (all cores; the first line of
    ``/proc/stat`` less idle and iowait), or None where it cannot be read."""
    try:
        with open("/proc/stat") as f:
            ticks = [int(v) for v in f.readline().split()[1:9]]
    except (OSError, ValueError):
        return None
    return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")


def _own_cpu_seconds() -> float:
    t = os.times()
    return t.user + t.system


def threads_for_load(others: Optional[float], configured: int,
                     cores: Optional[int] = None) -> int:
    """Numba threads worth having while other processes use ``others`` cores: the cores they
    leave free, rounded, between 1 and ``configured``. A thread on a core another process
    holds stalls every parallel region it takes part in (the region waits for its share),
    which costs more than the thread brings (DESIGN principle 13). ``others`` None: unknown,
    ``configured``."""
    if others is None:
        return configured
    cores = cores or os.cpu_count() or 1
    return max(1, min(configured, int(cores - others + 0.5)))


_adapted = None  # the thread count adapt_threads set last


def adapts_threads() -> bool:
    """Whether ``adapt_threads`` may change Numba's thread count: not when you chose it
    (``NUMBA_NUM_THREADS``, or ``numba.set_num_threads`` to a count this module did not set),
    nor with ``MINISNIP_ADAPT_THREADS=0``, nor under the BLAS backend (which runs Numba on one
    thread, ``tune_process``)."""
    import numba
    ours = _adapted if _adapted is not None else numba.config.NUMBA_NUM_THREADS
    return (os.environ.get("MINISNIP_ADAPT_THREADS", "1") != "0"
            and "NUMBA_NUM_THREADS" not in os.environ
            and get_matmul_backend() == "numba"
            and numba.get_num_threads() == ours)


def adapt_threads(watch: LoadWatch) -> int:
    """Set Numba's thread count for what other processes used since ``watch.start()``
    (``threads_for_load``), restart the watch, and return the count now in force; while the
    window is too short to tell (``LoadWatch.others`` is None) nothing changes and the window
    keeps growing. The training loop calls this before the first epoch and after each one;
    results do not depend on the thread count (every kernel computes each output on one
    thread in a fixed order)."""
    import numba
    global _adapted
    others = watch.others()
    if others is None:  # too short a window to tell (or no /proc/stat): keep the count, and
        return numba.get_num_threads()  # the window, which grows until it can tell
    if adapts_threads():
        _adapted = threads_for_load(others, numba.config.NUMBA_NUM_THREADS)
        numba.set_num_threads(_adapted)
    watch.start()
    return numba.get_num_threads()


@contextlib.contextmanager
def restore_threads():
    """Numba's thread count (and what ``adapt_threads`` last set) as it was on entry, again
    on exit: a training run adapts the count to the load and leaves the process as it found
    it."""
    import numba
    global _adapted
    before, adapted = numba.get_num_threads(), _adapted
    try:
        yield
    finally:
        numba.set_num_threads(before)
        _adapted = adapted
