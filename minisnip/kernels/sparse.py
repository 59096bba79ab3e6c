"""Sparse kernels: y = x W^T + b when W has few kept connections (after SNIP), and the
convolution computed the same way (its products over im2col's columns: the last section).

The kept connections of W (out, in) are given by a fixed pattern in two orders: by output
row (``row_ptr``, ``row_cols``: CSR) and by input column (``col_ptr``, ``col_rows``,
``col_pos``: CSC, with ``col_pos`` pointing into the CSR order). The values are gathered from
the dense weight every step (the weights train; the pattern does not).

Performance contract: O(B * nnz) for each of forward, input gradient and weight gradient,
against O(B * in * out) dense. Activations are used transposed, (features, B), so that every
inner loop runs over the batch contiguously (SIMD). Parallel over output rows (forward),
input columns (input gradient: each column written by one thread, no race) and kept
connections (weight gradient); deterministic. Serial below ``SPARSE_MIN_WORK`` multiply-adds
(B * nnz; ``gather``: nnz copies), ``threads.py``: a 99%-sparse layer's whole product is
smaller than one thread wake-up on a busy machine. The threshold is set by analogy with the
dense products' measured one (``matmul.MATMUL_MIN_FLOPS``, 2^20 multiply-adds): a sparse
multiply-add (an index, a scattered read) costs a few dense ones, so a quarter of it.
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange

from . import threads
from .conv import _grad_out_t, col2im, im2col, output_size

SPARSE_MIN_WORK = 1 << 18  # multiply-adds B * nnz (gather: nnz) below which the loop is serial

# The density at or below which a Linear layer's sparse step (forward, both gradients, the
# update of the kept weights) beats its dense c * w step, used by
# ``model.use_sparse_kernels("auto")`` (``nn.Linear.BREAK_EVEN_DENSITY``).
# Measured per layer step at batch 100, one thread (CPU time, best of 7): dense / sparse =
# 0.69-0.82x at density 0.5, 0.94-1.23x at 0.3, 1.20-1.55x at 0.2, 2.2-2.7x at 0.1, for
# 784x300, 300x100 and 800x500 layers; the dense products gain more from a second thread, so
# the choice is 0.2, where the sparse step wins on every shape. benchmarks/bench_breakeven.py
# measures forward and backward against PyTorch too (benchmarks/results/breakeven.json, 2
# threads: sparse / dense 0.99x at 0.3, 0.76x at 0.2 on 784x300, break-even 0.30).
LINEAR_BREAK_EVEN_DENSITY = 0.2

# The same for a convolution (``ops.sparse.sparse_conv2d``, ``nn.Conv2d.BREAK_EVEN_DENSITY``):
# its im2col and col2im cost the same either way, only its three products shrink with the
# density. Measured forward and backward, 2 threads (benchmarks/bench_breakeven.py): break-even
# 0.27 for 128 -> 128 3x3 on 16x16 and 0.38 for 512 -> 512 3x3 on 4x4 (batch 32,
# breakeven-large-convs.json), 0.475 for 64 -> 64 3x3 on 8x8 (batch 100, breakeven.json);
# LeNet-5-Caffe's second convolution (20 -> 50, 5x5 on 12x12) is faster sparse at every
# density, 0.75x at 1.0 (its dense product is the slower one there). 0.25: below all four.
CONV_BREAK_EVEN_DENSITY = 0.25


def pattern_from_mask(mask: np.ndarray) -> tuple:
    """(row_ptr, row_cols, col_ptr, col_rows, col_pos) of the nonzeros of a mask, read as a
    matrix with one row per output: (out, in) as it is, a convolution's (OC, C, KH, KW) as
    (OC, C*KH*KW)."""
    mask = np.asarray(mask)
    mask = mask.reshape(mask.shape[0], -1)
    rows, cols = np.nonzero(mask)                       # row-major order = CSR order
    out_features, in_features = mask.shape
    row_ptr = np.zeros(out_features + 1, np.int64)
    np.cumsum(np.bincount(rows, minlength=out_features), out=row_ptr[1:])
    order = np.lexsort((rows, cols))                    # by column, then row
    col_ptr = np.zeros(in_features + 1, np.int64)
    np.cumsum(np.bincount(cols, minlength=in_features), out=col_ptr[1:])
    return (row_ptr, cols.astype(np.int64), col_ptr, rows[order].astype(np.int64),
            order.astype(np.int64))


def compact_columns(row_cols: np.ndarray, in_features: int) -> tuple:
    """(used, x_rows): the input columns that have at least one kept connection, ascending,
    and for each kept connection (CSR order) the position of its column in ``used``. A layer
    whose kept connections read few of its inputs (SNIP at 99% often cuts most border pixels
    off LeNet-300-100's first layer) then transposes only those columns of x into the
    kernels' layout."""
    used = np.flatnonzero(np.bincount(row_cols, minlength=in_features))
    position = np.zeros(in_features, np.int64)
    position[used] = np.arange(used.size)
    return used, position[row_cols]


@njit(cache=True, parallel=True)
def gather(weight, row_ptr, row_cols):
    values = np.empty(row_cols.size, dtype=weight.dtype)
    previous = threads.serial_below(row_cols.size, SPARSE_MIN_WORK)
    for o in prange(row_ptr.size - 1):
        for p in range(row_ptr[o], row_ptr[o + 1]):
            values[p] = weight[o, row_cols[p]]
    threads.restore(previous)
    return values


@njit(cache=True, parallel=True, fastmath={"contract"})
def forward_t(x_t, values, row_ptr, row_cols):
    """y^T (out, B) = W x^T for x^T (in, B)."""
    out_features = row_ptr.size - 1
    batch = x_t.shape[1]
    y_t = np.empty((out_features, batch), dtype=x_t.dtype)  # np.zeros: a parallel loop of
    previous = threads.serial_below(batch * values.size, SPARSE_MIN_WORK)  # its own, ungated
    for o in prange(out_features):
        y_t[o] = 0.0
        for p in range(row_ptr[o], row_ptr[o + 1]):
            v = values[p]
            i = row_cols[p]
            for b in range(batch):
                y_t[o, b] += v * x_t[i, b]
    threads.restore(previous)
    return y_t


@njit(cache=True, parallel=True, fastmath={"contract"})
def input_grad_t(g_t, values, col_ptr, col_rows, col_pos):
    """dx^T (in, B) = W^T g^T for g^T (out, B)."""
    in_features = col_ptr.size - 1
    batch = g_t.shape[1]
    dx_t = np.empty((in_features, batch), dtype=g_t.dtype)
    previous = threads.serial_below(batch * values.size, SPARSE_MIN_WORK)
    for i in prange(in_features):
        dx_t[i] = 0.0
        for q in range(col_ptr[i], col_ptr[i + 1]):
            v = values[col_pos[q]]
            o = col_rows[q]
            for b in range(batch):
                dx_t[i, b] += v * g_t[o, b]
    threads.restore(previous)
    return dx_t


@njit(cache=True, parallel=True, fastmath={"contract", "reassoc"})
def weight_grad(g_t, x_t, row_ptr, row_cols, x_rows, out_features, in_features):
    """dW (out, in), nonzero only at kept connections: dW[o, i] = sum_b g[b, o] x[b, i], with
    x^T's row of connection p at ``x_rows[p]`` (``row_cols`` itself, or its position among the
    used columns when x^T holds only those: ``compact_columns``)."""
    dw = np.empty((out_features, in_features), dtype=g_t.dtype)
    batch = g_t.shape[1]
    zero = g_t.dtype.type(0)
    previous = threads.serial_below(batch * row_cols.size, SPARSE_MIN_WORK)
    for o in prange(out_features):
        dw[o] = 0.0
        for p in range(row_ptr[o], row_ptr[o + 1]):
            r = x_rows[p]
            s = zero
            for b in range(batch):
                s += g_t[o, b] * x_t[r, b]
            dw[o, row_cols[p]] = s
    threads.restore(previous)
    return dw


# ------------------------------------------------------------- convolution: sparse products
# A convolution is a product over patches: out^T (OC, N*OH*OW) = W (OC, C*KH*KW) cols, with
# cols = im2col(x) (kernels/conv.py). With W sparse, its three products are the sparse linear
# kernels above, the positions N*OH*OW of the patches playing the batch: O(N*OH*OW * nnz) each
# instead of O(N*OH*OW * OC*C*KH*KW). im2col and col2im cost what they cost densely. The
# pattern is ``pattern_from_mask(mask)`` of the (OC, C, KH, KW) mask. x and the values must
# have one dtype (``ops/sparse.py`` casts x as the dense products would promote it).

def sparse_conv2d_forward(x, values, row_ptr, row_cols, kh, kw, stride, padding):
    """out (N, OC, OH, OW) = x correlated with the weight holding ``values`` at the pattern;
    returns ``(out, cols)`` as ``conv.conv2d_forward`` does."""
    n, _, h, w = x.shape
    oh, ow = output_size(h, kh, stride, padding), output_size(w, kw, stride, padding)
    cols = im2col(x, kh, kw, stride, padding)
    out_t = forward_t(cols, values, row_ptr, row_cols)                  # (OC, N*OH*OW)
    out_t = out_t.reshape(row_ptr.size - 1, n, oh, ow)
    out = np.ascontiguousarray(out_t.transpose(1, 0, 2, 3))
    return out, cols


def sparse_conv2d_input_grad(grad_out, values, col_ptr, col_rows, col_pos, input_shape,
                             kh, kw, stride, padding):
    """dL/dx (N, C, H, W): col2im of W^T dout^T, W^T applied from the pattern's CSC side."""
    n, c, h, w = input_shape
    dcols = input_grad_t(_grad_out_t(grad_out), values, col_ptr, col_rows, col_pos)
    return col2im(dcols, n, c, h, w, kh, kw, stride, padding)


def sparse_conv2d_weight_grad(grad_out, cols, row_ptr, row_cols, weight_shape):
    """dL/dW (OC, C, KH, KW), nonzero only at kept connections: dout^T cols^T there."""
    oc = weight_shape[0]
    dw = weight_grad(_grad_out_t(grad_out), cols, row_ptr, row_cols, row_cols, oc,
                     cols.shape[0])
    return dw.reshape(weight_shape)
