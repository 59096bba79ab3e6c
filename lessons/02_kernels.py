# %% [markdown]
# # Lesson 2: a matrix-multiplication kernel, from naive to blocked to parallel
#
# The training step of LeNet-300-100 is mostly three matrix products forward and six
# backward. We write the product six ways and time each against NumPy's `@` (OpenBLAS).
# Set MINISNIP_FAST=1 for small sizes.
#
# **Reading the numbers.** Times depend on the machine and on what else runs on it. The text
# below says what usually happens on an idle laptop; on a busy machine (a shared server,
# other programs, a test suite in another window) a parallel kernel can be *slower* than the
# serial one: every parallel region waits for all its threads, and a thread that the
# operating system has descheduled holds everyone up. If your numbers contradict the text,
# look at the load printed below; compare with `NUMBA_NUM_THREADS=1 python
# lessons/02_kernels.py`, or run again when the machine is quiet.

# %%
import os
import time

import numba
import numpy as np
from numba import njit, prange

from minisnip.kernels.matmul import matmul as minisnip_matmul

FAST = os.environ.get("MINISNIP_FAST") == "1"
print(f"{numba.get_num_threads()} Numba threads on {os.cpu_count()} cores; load average "
      f"over the last minute: {os.getloadavg()[0]:.2f} (above the core count: expect noise)")
M, K, N = (20, 40, 30) if FAST else (100, 784, 300)   # the first layer at batch 100
rng = np.random.default_rng(0)
A = rng.standard_normal((M, K)).astype(np.float32)
B = rng.standard_normal((K, N)).astype(np.float32)
flops = 2 * M * N * K


def bench(name, fn, repeats=5 if FAST else 20):
    fn()  # the first call compiles (Numba); time the warm calls
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    t = np.median(times)
    err = np.abs(out - A @ B).max()
    print(f"{name:28s} {t * 1e3:9.3f} ms  {flops / t / 1e9:7.2f} GFLOP/s   max error {err:.1e}")
    return t


# %% [markdown]
# ## 1. Pure Python loops
# Three nested loops, one multiply-add per innermost step: every step is an interpreted
# Python operation, so it is thousands of times slower than the hardware allows.

# %%
def python_matmul(a, b):
    m, k = a.shape
    n = b.shape[1]
    c = np.zeros((m, n), dtype=a.dtype)
    for i in range(m):
        for j in range(n):
            s = 0.0
            for kk in range(k):
                s += a[i, kk] * b[kk, j]
            c[i, j] = s
    return c


if FAST:
    bench("pure Python", lambda: python_matmul(A, B), repeats=1)
else:
    small = (A[:4], B)
    t0 = time.perf_counter()
    python_matmul(*small)
    per_row = (time.perf_counter() - t0) / 4
    print(f"{'pure Python (estimated)':28s} {per_row * M * 1e3:9.1f} ms")

# %% [markdown]
# ## 2. The same loops compiled by Numba
# Compiled, but the innermost loop walks down a *column* of B: each step jumps a whole row
# (N floats) in memory, so nearly every load misses the cache and nothing vectorizes.

# %%
@njit(cache=True)
def naive_numba(a, b):
    m, k = a.shape
    n = b.shape[1]
    c = np.zeros((m, n), dtype=a.dtype)
    for i in range(m):
        for j in range(n):
            s = 0.0
            for kk in range(k):
                s += a[i, kk] * b[kk, j]
            c[i, j] = s
    return c


bench("Numba, i-j-k loops", lambda: naive_numba(A, B))

# %% [markdown]
# ## 3. Reorder the loops (i-k-j): contiguous inner loop
# Now the innermost loop runs along a row of B and a row of C: consecutive addresses, so
# each cache line is used fully and LLVM can use SIMD instructions (8 floats at once).

# %%
@njit(cache=True)
def ikj_numba(a, b):
    m, k = a.shape
    n = b.shape[1]
    c = np.zeros((m, n), dtype=a.dtype)
    for i in range(m):
        for kk in range(k):
            aik = a[i, kk]
            for j in range(n):
                c[i, j] += aik * b[kk, j]
    return c


bench("Numba, i-k-j loops", lambda: ikj_numba(A, B))

# %% [markdown]
# ## 4. Parallel over rows
# Rows of C are independent: `prange` hands them to threads (one per core by default). On
# an idle machine this divides the time by about the number of cores; on a busy one it may
# not (see "Reading the numbers" above).

# %%
@njit(cache=True, parallel=True)
def ikj_parallel(a, b):
    m, k = a.shape
    n = b.shape[1]
    c = np.zeros((m, n), dtype=a.dtype)
    for i in prange(m):
        for kk in range(k):
            aik = a[i, kk]
            for j in range(n):
                c[i, j] += aik * b[kk, j]
    return c


bench("Numba, i-k-j, prange", lambda: ikj_parallel(A, B))

# %% [markdown]
# ## 5. Packed panels and a 4 x 64 tile of rank-1 updates
# `minisnip.kernels.matmul.tiles` works on B copied into strips of 64 columns (contiguous
# whatever B's strides, `pack_columns`) and computes C in 4 x 64 tiles: for each k, four
# numbers of A times one 64-wide row of the strip, added into four accumulator rows. Each
# element of B loaded is used four times and C is written once instead of K times; tiles are
# independent, so they run in parallel. But the four accumulator rows are *arrays*, and in
# Numba an array lives in memory: every multiply-add also loads and stores its accumulator
# (from L1), and that traffic, not the arithmetic, sets the speed.

# %%
from minisnip.kernels.matmul import dot_block, dot_tiles, pack_columns, tiles  # noqa: E402

bench("rank-1 tiles (packed B)", lambda: tiles(A, pack_columns(B), N))

# %% [markdown]
# ## 6. Dot-product tiles: accumulators that live in registers
# `dot_tiles` computes a 4 x 4 tile of C as 16 dot products over k in one loop. The 16 sums
# are plain scalars, so LLVM keeps them in registers; with `fastmath={"reassoc"}` it may
# reorder each sum, which lets it vectorize the k loop (16 vector accumulators, 8 vector
# loads per 16 fused multiply-adds). It wants A and B^T with contiguous rows: for a layer's
# `x @ W.T` that is exactly how `x` and `W` (out, in) are stored, so nothing is copied. Its
# cost is a horizontal sum per entry at the end, which a short k does not repay: `matmul`
# uses it from k = 128 on and the rank-1 tiles below that.

# %%
Bt = np.ascontiguousarray(B.T)
bench("dot-product tiles", lambda: dot_tiles(A, Bt, dot_block(K, A.itemsize)))
bench("minisnip matmul (picks)", lambda: minisnip_matmul(A, B))
bench("NumPy @ (OpenBLAS)", lambda: A @ B)

# %% [markdown]
# OpenBLAS usually wins on larger products: it has hand-written assembly micro-kernels that
# keep a whole tile of C in registers while streaming both operands, tunes its blocking to
# the cache sizes and packs A too. On this layer's shape the dot-product tiles come close,
# and on some machines ahead; which one wins on yours is what the table above says. `benchmarks/bench_matmul.py` measures every product of the
# training step; `MINISNIP_MATMUL=blas` switches the engine to NumPy's `@`.

# %%
print("lesson 2 done")
