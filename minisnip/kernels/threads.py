"""Parallel only when it pays (DESIGN.md, principle 13): a parallel kernel runs its ``prange``
loop on one thread when its work is below a measured size.

A parallel region wakes the thread pool. On an idle machine that costs a few microseconds; on
a busy one (a student laptop, a shared server) the woken thread may wait for a core, and a
3x2 @ 2x4 product measured 18 ms instead of 4 us. So every parallel kernel of ``kernels/``
brackets its ``prange`` loop like this::

    previous = threads.serial_below(work, SOME_MIN_WORK)   # 1 thread if work < SOME_MIN_WORK
    for t in prange(...):
        ...
    threads.restore(previous)

``serial_below`` returns the calling thread's thread count as it was and sets it to 1 when the
work is small; ``restore`` puts the count back. Numba's thread count is per calling thread and
a ``prange`` loop reads it when it starts, so with a count of 1 the loop runs on the caller
and wakes no one (measured on a 16-element kernel: 3-4 us gated, 14-340 us parallel under
load, 8 us switching the count from Python around the call).

The rules that keep the count right on every path:

* Nothing that can raise and no ``return`` between ``serial_below`` and ``restore``: compute
  the shapes and allocate the outputs first (``np.empty`` of a negative size raises), then
  gate, then the loop alone, then restore. A kernel that returns early does so before gating.
* Allocate with ``np.empty`` only, and zero inside the gated loop: in a ``parallel=True``
  function ``np.zeros`` (and any whole-array expression) is a parallel loop of its own,
  outside the gate (a sparse weight gradient's ``np.zeros`` measured 7.7 ms per call on a
  busy machine, 24 us once moved into the loop).
* ``work`` and the thresholds are counted per kernel family (flops, elements or bytes: each
  kernel's docstring says which); the thresholds are measured by
  ``benchmarks/bench_thresholds.py`` and kept in ``benchmarks/results/thresholds.json``.
* The thread count is only lowered, never raised: a caller that asked for one thread keeps it.

Results do not depend on the gate: every kernel computes each output element on one thread in
a fixed order, whatever the thread count.

Why not ``numba.get_num_threads`` / ``numba.set_num_threads`` directly: inside a compiled
function they call through ctypes pointers, and a function holding one cannot be cached
(``cache=True`` would silently recompile every kernel in every process). The two intrinsics
below call the same functions of Numba's threading layer by their symbol names, which caches.
The helpers themselves are compiled without ``cache``: a cached helper loaded on its own in a
fresh process (called from Python before any parallel kernel started the thread pool) would
find those symbols missing; compiled, it starts the pool while typing. Inside the kernels they
are compiled into the kernel and cached with it. Under ``NUMBA_DISABLE_JIT=1`` the helpers are
the plain Python functions at the bottom, with the same effect.
"""
from __future__ import annotations

import numba
from numba import njit

if not numba.config.DISABLE_JIT:
    from llvmlite import ir
    from numba import types
    from numba.core import cgutils
    from numba.extending import intrinsic
    from numba.np.ufunc.parallel import _launch_threads

    @intrinsic
    def _get_threads(typingctx):
        """The calling thread's Numba thread count (the threading layer's ``get_num_threads``)."""
        _launch_threads()  # registers the threading layer's symbols

        def codegen(context, builder, signature, args):
            # declared as Numba's parfor lowering declares it (returning intp), since both
            # declarations can meet in one LLVM module
            fn = cgutils.get_or_insert_function(
                builder.module, ir.FunctionType(cgutils.intp_t, []), "get_num_threads")
            return builder.call(fn, [])
        return types.intp(), codegen

    @intrinsic
    def _set_threads(typingctx, n):
        """Set the calling thread's Numba thread count (``set_num_threads``, no range check:
        only ever given 1 or a count that ``_get_threads`` returned)."""
        _launch_threads()

        def codegen(context, builder, signature, args):
            fn = cgutils.get_or_insert_function(
                builder.module, ir.FunctionType(ir.VoidType(), [ir.IntType(32)]),
                "set_num_threads")
            builder.call(fn, [builder.trunc(args[0], ir.IntType(32))])
            return context.get_dummy_value()
        return types.none(types.intp), codegen

    @njit(inline="always")
    def serial_below(work, threshold):
        """The calling thread's thread count; if ``work < threshold``, the count is set to 1
        until ``restore`` (the next ``prange`` loop then runs on the calling thread alone)."""
        previous = _get_threads()
        if work < threshold:
            _set_threads(1)
        return previous

    @njit(inline="always")
    def restore(previous):
        """Set the thread count back to what ``serial_below`` returned."""
        _set_threads(previous)

else:  # NUMBA_DISABLE_JIT=1: the same calls, in Python
    def serial_below(work, threshold):
        """The calling thread's thread count; if ``work < threshold``, the count is set to 1
        until ``restore``."""
        previous = numba.get_num_threads()
        if work < threshold:
            numba.set_num_threads(1)
        return previous

    def restore(previous):
        """Set the thread count back to what ``serial_below`` returned."""
        numba.set_num_threads(previous)
