"""Matrix multiplication ``C = A @ B`` in Numba: three kernels, chosen by shape in ``matmul``.

* ``dot_tiles`` (k >= DOT_MIN_K): A and B^T row-contiguous, 4 x 4 tiles of dot products whose
  16 sums LLVM keeps in vector registers. The fastest when k is long.
* ``tiles`` (short k): B packed into strips, 4 x 64 tiles of rank-1 updates (described below).
* ``long_k`` (a tiny output with a very long k, a convolution's weight gradient): k split into
  chunks that run in parallel.

Performance contract of ``tiles``
---------------------------------
* ``B`` (K, N) is packed once into strips of ``NR`` columns, k-major and zero-padded
  (O(KN) copy, parallel over strips): the inner loop then reads B contiguously whatever its
  strides, so a transposed view (``grad @ W`` with ``W`` stored (out, in)) costs nothing extra.
* ``A`` (M, K) is read in place (any strides): each k step loads four scalars of A.
* The micro-kernel computes one ``MR x NR`` tile of C as a sum over k of rank-1 updates: four
  broadcasts of A times one NR-vector of B. The NR loop is what LLVM vectorizes (SIMD). The
  four accumulator rows are separate 1-D arrays (a 2-D accumulator measured 10x slower), but
  an array lives in memory: the assembly (``tiles.inspect_asm``, with caching off) loads,
  multiply-adds and stores back 8 floats of accumulator for every 8 floats of B, so L1
  traffic, not arithmetic, bounds this kernel. ``dot_tiles`` avoids that for long k.
* Tiles of C are independent: ``prange`` over tiles. Each tile is computed by one thread in a
  fixed k order, so results are bitwise the same for any thread count.
* ``fastmath={"contract"}`` only allows fused multiply-add: deterministic.
* Serial below ``MATMUL_MIN_FLOPS`` = 2^20 multiply-adds (m*n*k), the measured size from which
  two threads beat one; every kernel here is gated so (copies: ``COPY_MIN_ELEMENTS`` = 2^15
  elements), and ``row_contiguous`` copies a small transposed view with NumPy: a 3x2 @ 2x4
  product never wakes a thread.
* O(M N K) flops; O(MK * N/NR + KN + MN) memory traffic.

NR = 64 measured best of {16, 32, 64, 128} on (100, 784) @ (784, 300) (16 was an order of
magnitude slower: too short a vector loop). ``benchmarks/bench_matmul.py`` measures every
kernel against NumPy's BLAS and keeps the numbers in ``benchmarks/results/matmul.json``.
"""
from __future__ import annotations

from typing import Callable, NamedTuple

import numpy as np
from numba import njit, prange

from . import threads

MR = 4   # rows of a micro-tile (four accumulator rows, written out in _tiles)
NR = 64  # columns of a micro-tile: the vectorized loop

# Parallel only when it pays (``threads.py``): below these sizes the kernels run on one thread.
# Measured by benchmarks/bench_thresholds.py (1 against 2 threads, float32): the dot tiles
# first gained >= 1.15x at 2^20 multiply-adds (about 30 us on one thread; 1.13x at 2^18), the
# rank-1 tiles already at 2^16; packing B at 2^15 elements (16 us). The larger one is kept.
MATMUL_MIN_FLOPS = 1 << 20     # multiply-adds m*n*k of ``tiles``, ``dot_tiles``, ``long_k``
COPY_MIN_ELEMENTS = 1 << 15    # elements copied by ``pack_columns`` and ``transposed``


KB = 256  # rows of B packed per parallel task


@njit(cache=True, parallel=True)
def pack_columns(b):
    """B (K, N) -> (ceil(N/NR), K, NR): strips of NR columns, k-major, zero-padded.

    Parallel over (strip, block of KB rows) so that a tall, narrow B (one strip) still uses
    every thread. Within a task the loop order follows B's memory order: a row-major B is
    copied row segment by row segment, a column-major one (a transposed view such as the
    convolution's ``dout.T``) column by column over KB rows at a time, so the task's part of
    the strip (KB x NR floats) stays in cache (an unblocked column-by-column copy of a
    (57600, 20) view measured 10.6 ms, blocked 0.8 ms)."""
    k, n = b.shape
    strips = (n + NR - 1) // NR
    blocks = (k + KB - 1) // KB
    out = np.empty((strips, k, NR), dtype=b.dtype)  # np.zeros would touch every page twice
    column_major = b.strides[0] < b.strides[1]
    previous = threads.serial_below(k * n, COPY_MIN_ELEMENTS)
    for t in prange(strips * blocks):
        s = t // blocks
        k0 = (t - s * blocks) * KB
        k1 = min(k, k0 + KB)
        j0 = s * NR
        width = min(NR, n - j0)
        if column_major:
            for j in range(width):
                for kk in range(k0, k1):
                    out[s, kk, j] = b[kk, j0 + j]
        else:
            for kk in range(k0, k1):
                for j in range(width):
                    out[s, kk, j] = b[kk, j0 + j]
        for kk in range(k0, k1):
            for j in range(width, NR):
                out[s, kk, j] = 0.0
    threads.restore(previous)
    return out


@njit(cache=True, parallel=True, fastmath={"contract"})
def tiles(a, b_packed, n):
    """C = A @ B from A (M, K) and the packed B; one MR x NR tile per parallel iteration."""
    m, k = a.shape
    col_strips = b_packed.shape[0]
    row_strips = (m + MR - 1) // MR
    c = np.empty((m, n), dtype=a.dtype)
    previous = threads.serial_below(m * n * k, MATMUL_MIN_FLOPS)
    for t in prange(row_strips * col_strips):
        rs = t // col_strips
        cs = t - rs * col_strips
        i0 = rs * MR
        j0 = cs * NR
        rows = min(MR, m - i0)
        width = min(NR, n - j0)
        strip = b_packed[cs]
        c0 = np.zeros(NR, a.dtype)
        c1 = np.zeros(NR, a.dtype)
        c2 = np.zeros(NR, a.dtype)
        c3 = np.zeros(NR, a.dtype)
        # rows past the end of A repeat the last row; their results are not written
        r1 = i0 + min(1, rows - 1)
        r2 = i0 + min(2, rows - 1)
        r3 = i0 + min(3, rows - 1)
        for kk in range(k):
            a0 = a[i0, kk]
            a1 = a[r1, kk]
            a2 = a[r2, kk]
            a3 = a[r3, kk]
            for j in range(NR):
                bb = strip[kk, j]
                c0[j] += a0 * bb
                c1[j] += a1 * bb
                c2[j] += a2 * bb
                c3[j] += a3 * bb
        for j in range(width):
            c[i0, j0 + j] = c0[j]
            if rows > 1:
                c[i0 + 1, j0 + j] = c1[j]
            if rows > 2:
                c[i0 + 2, j0 + j] = c2[j]
            if rows > 3:
                c[i0 + 3, j0 + j] = c3[j]
    threads.restore(previous)
    return c


KC = 4096  # chunk of k for products with a small output and a long k


@njit(cache=True, parallel=True, fastmath={"contract", "reassoc"})
def long_k(a, bt):
    """C = A @ B for a small output (M x N) and a long k, from A (M, K) and B^T (N, K), both
    row-contiguous: each C[i, j] is a dot product. k is cut into fixed chunks of KC that run
    in parallel (their operands fit in L2), and the partial results are added in chunk order
    afterwards, so the result does not depend on the thread count. "reassoc" lets LLVM
    vectorize each dot product; it is fixed at compile time, hence still deterministic.
    Used for a convolution's weight gradient over a large batch (25 x 20 outputs, k = 57,600:
    measured 2.1 ms, against 6.7 ms for packing B and running the tile kernel)."""
    m, k = a.shape
    n = bt.shape[0]
    chunks = (k + KC - 1) // KC
    partial = np.empty((chunks, m, n), dtype=a.dtype)
    zero = a.dtype.type(0)  # accumulate in the data type: a float64 accumulator measured 20x slower
    previous = threads.serial_below(m * n * k, MATMUL_MIN_FLOPS)
    for ch in prange(chunks):
        k0 = ch * KC
        k1 = min(k, k0 + KC)
        for i in range(m):
            a_row = a[i, k0:k1]
            for j in range(n):
                b_row = bt[j, k0:k1]
                s = zero
                for kk in range(k1 - k0):
                    s += a_row[kk] * b_row[kk]
                partial[ch, i, j] = s
    threads.restore(previous)
    c = np.empty((m, n), dtype=a.dtype)  # np.zeros: a parallel loop of its own, ungated
    for i in range(m):
        for j in range(n):
            c[i, j] = partial[0, i, j]
    for ch in range(1, chunks):
        for i in range(m):
            for j in range(n):
                c[i, j] += partial[ch, i, j]
    return c


DOT_MIN_K = 128  # from this k on, the dot-product tiles beat the packed rank-1 tiles


@njit(cache=True, parallel=True, fastmath={"contract", "reassoc"})
def dot_tiles(a, bt, block):
    """C = A @ B from A (M, K) and B^T (N, K), both C-contiguous: each 4 x 4 tile of C is 16
    dot products over k, computed in one loop.

    Why it is fast for a long k: the 16 sums are scalars, so LLVM keeps them in registers and,
    with "reassoc", vectorizes the k loop (16 vector accumulators, 8 vector loads per 16
    fused multiply-adds, no stores: checked in the assembly, 16 ``vfmadd231ps`` on ymm
    registers per iteration). The rank-1 tiles of ``tiles`` keep their accumulators in memory (an
    array cannot live in registers), which bounds them by load/store traffic. The price is a
    horizontal sum per entry at the end, which a short k (under ``DOT_MIN_K``) does not repay.
    Tiles run in parallel, ordered so that all row strips of A meet one ``block`` of B^T rows
    (``block * K`` floats, chosen to stay in L1/L2) before the next block. Each entry is
    computed by one thread in a fixed order: the result does not depend on the thread count.
    Measured at 1 thread, float32: (100, 784) @ (784, 300) 70 GFLOP/s against 25-35 for
    ``tiles``; (100, 800) @ (800, 500) 72 against 12-30; k = 100: no gain."""
    m, k = a.shape
    n = bt.shape[0]
    c = np.empty((m, n), dtype=a.dtype)
    row_strips = (m + 3) // 4
    strips_per_block = block // 4
    per_block = row_strips * strips_per_block
    blocks = (n + block - 1) // block
    zero = a.dtype.type(0)
    previous = threads.serial_below(m * n * k, MATMUL_MIN_FLOPS)
    for t in prange(blocks * per_block):
        blk = t // per_block
        rest = t - blk * per_block
        rs = rest // strips_per_block
        j0 = blk * block + (rest - rs * strips_per_block) * 4
        if j0 >= n:
            continue
        i0 = rs * 4
        # rows (columns) past the end repeat the last one; their results are not written
        a0, a1, a2, a3 = a[i0], a[min(i0 + 1, m - 1)], a[min(i0 + 2, m - 1)], a[min(i0 + 3, m - 1)]
        b0, b1 = bt[j0], bt[min(j0 + 1, n - 1)]
        b2, b3 = bt[min(j0 + 2, n - 1)], bt[min(j0 + 3, n - 1)]
        s00 = s01 = s02 = s03 = zero
        s10 = s11 = s12 = s13 = zero
        s20 = s21 = s22 = s23 = zero
        s30 = s31 = s32 = s33 = zero
        for kk in range(k):
            x0, x1, x2, x3 = a0[kk], a1[kk], a2[kk], a3[kk]
            y0, y1, y2, y3 = b0[kk], b1[kk], b2[kk], b3[kk]
            s00 += x0 * y0; s01 += x0 * y1; s02 += x0 * y2; s03 += x0 * y3  # noqa: E702
            s10 += x1 * y0; s11 += x1 * y1; s12 += x1 * y2; s13 += x1 * y3  # noqa: E702
            s20 += x2 * y0; s21 += x2 * y1; s22 += x2 * y2; s23 += x2 * y3  # noqa: E702
            s30 += x3 * y0; s31 += x3 * y1; s32 += x3 * y2; s33 += x3 * y3  # noqa: E702
        rows = min(4, m - i0)
        cols = min(4, n - j0)
        _store_row(c, i0, j0, cols, s00, s01, s02, s03)
        if rows > 1:
            _store_row(c, i0 + 1, j0, cols, s10, s11, s12, s13)
        if rows > 2:
            _store_row(c, i0 + 2, j0, cols, s20, s21, s22, s23)
        if rows > 3:
            _store_row(c, i0 + 3, j0, cols, s30, s31, s32, s33)
    threads.restore(previous)
    return c


@njit(cache=True, inline="always")
def _store_row(c, i, j0, cols, v0, v1, v2, v3):
    c[i, j0] = v0
    if cols > 1:
        c[i, j0 + 1] = v1
    if cols > 2:
        c[i, j0 + 2] = v2
    if cols > 3:
        c[i, j0 + 3] = v3


TB = 32  # edge of the square blocks of ``transposed``


@njit(cache=True, parallel=True)
def transposed(x):
    """A C-contiguous copy of x.T, in parallel over TB x TB blocks (NumPy's single-threaded
    copy of a (500, 6400) transpose measured 4.9 ms, packing the same array 2.0)."""
    r, c = x.shape
    out = np.empty((c, r), dtype=x.dtype)
    bc = (c + TB - 1) // TB
    previous = threads.serial_below(r * c, COPY_MIN_ELEMENTS)
    for t in prange(((r + TB - 1) // TB) * bc):
        i0 = (t // bc) * TB
        j0 = (t % bc) * TB
        for j in range(j0, min(c, j0 + TB)):
            for i in range(i0, min(r, i0 + TB)):
                out[j, i] = x[i, j]
    threads.restore(previous)
    return out


def row_contiguous(x: np.ndarray) -> np.ndarray:
    """x as a C-contiguous array: itself, a parallel transpose of a column-major view, or a
    copy (NumPy's, serial: also for a small column-major view, which would not repay waking
    the threads of ``transposed``)."""
    if x.flags.c_contiguous:
        return x
    if x.T.flags.c_contiguous and x.size >= COPY_MIN_ELEMENTS:
        return transposed(x.T)
    return np.ascontiguousarray(x)


def dot_block(k: int, itemsize: int) -> int:
    """Rows of B^T per block of ``dot_tiles``: 64, or fewer (a multiple of 4) when 64 rows
    would pass 1 MB (half this machine's L2 per core). Measured at 2 threads, blocks of
    4 / 16 / 64 / 256 rows: (512, 2800) @ (2800, 28) 89 / 98 / 109 / 108 GFLOP/s,
    (6400, 500) @ (500, 50) 59 / 71 / 87 / 82, (100, 784) @ (784, 300) 94 / 94 / 102 / 67."""
    return max(4, min(64, (1 << 20) // (k * itemsize) // 4 * 4))


class RightOperand:
    """A right-hand operand B (K, N) laid out once for many products ``a @ B`` (a recurrent
    layer's W_hh^T, used at every time step): B^T row-contiguous for ``dot_tiles`` when
    k >= DOT_MIN_K (free when B is a transposed view of a row-major matrix), packed strips
    for ``tiles`` otherwise; the same choice ``matmul`` makes."""

    def __init__(self, b: np.ndarray):
        k, self.n = b.shape
        self.bt = self.packed = None
        if k >= DOT_MIN_K:
            self.bt = row_contiguous(b.T)
            self.block = dot_block(k, b.itemsize)
        else:
            self.packed = pack_columns(b)

    def left_multiply(self, a: np.ndarray) -> np.ndarray:
        if self.bt is not None:
            return dot_tiles(row_contiguous(a), self.bt, self.block)
        return tiles(a, self.packed, self.n)


def matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a @ b`` for 2-D float32/float64 arrays of any strides; C-contiguous result.

    Mixed dtypes are computed in the wider one; other dtypes in float64.
    """
    if a.ndim != 2 or b.ndim != 2:
        raise ValueError(f"matmul kernel: expected 2-D arrays, got shapes {a.shape} and {b.shape}")
    if a.shape[1] != b.shape[0]:
        raise ValueError(f"matmul kernel: shapes {a.shape} and {b.shape} do not fit "
                         f"(inner dimensions {a.shape[1]} != {b.shape[0]})")
    dtype = np.result_type(a.dtype, b.dtype)
    if dtype not in (np.float32, np.float64):
        dtype = np.dtype(np.float64)
    m, n = a.shape[0], b.shape[1]
    if m == 0 or n == 0 or a.shape[1] == 0:
        return np.zeros((m, n), dtype=dtype)
    a = a.astype(dtype, copy=False)
    b = b.astype(dtype, copy=False)
    if m * n <= 2048 and a.shape[1] >= 4 * KC and a.strides[1] == a.itemsize \
            and b.strides[0] == b.itemsize:
        return long_k(a, b.T)
    k = a.shape[1]
    if k >= DOT_MIN_K:
        return dot_tiles(row_contiguous(a), row_contiguous(b.T), dot_block(k, a.itemsize))
    if _padded(n, m) < 0.75 * _padded(m, n):
        return _tiles_transposed(a, b)
    return tiles(a, pack_columns(b), n)


def _tiles_transposed(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """A narrow C (say 100 x 10) would waste most of each 64-wide tile: compute C^T = B^T A^T
    instead, whose long side is the tile's width."""
    return np.ascontiguousarray(tiles(b.T, pack_columns(a.T), a.shape[0]).T)


def _padded(m: int, n: int) -> int:
    """Multiply-adds per k of a product with an (m, n) output, tiles padded to MR x NR."""
    return (-(-m // MR) * MR) * (-(-n // NR) * NR)


class Products(NamedTuple):
    """The matrix products a composite kernel (a convolution, an LSTM/GRU over a sequence)
    computes with: ``matmul(a, b)``, and ``right_operand(b)``, a right-hand operand laid out
    once for many products ``.left_multiply(a)``. ``NUMBA`` are this module's kernels; the
    other backend (NumPy's BLAS) and the choice between them live in ``minisnip/ops/linalg.py``:
    kernels are told which products to use, they never look it up."""

    matmul: Callable
    right_operand: Callable


NUMBA = Products(matmul=matmul, right_operand=RightOperand)
