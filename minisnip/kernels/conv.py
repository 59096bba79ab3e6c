"""2-D convolution (cross-correlation, as PyTorch) by im2col + the matmul kernel, NCHW.

Performance contract
--------------------
* ``im2col`` unfolds x (N, C, H, W) into ``cols`` (C*KH*KW, N*OH*OW), C-contiguous, in
  parallel over the C*KH*KW rows (each row is written by one thread: deterministic); serial
  below ``UNFOLD_MIN_ELEMENTS`` = 2^15 entries of cols (measured), as ``col2im``.
* forward:        out (N*OH*OW, OC) = cols^T @ W^T  (matmul kernel). With C*KH*KW >= 128
                  (LeNet-5's second conv) ``matmul`` runs the dot-product tiles on a parallel
                  transpose of cols and W as stored; below, the rank-1 tiles on W @ cols
                  computed transposed (a whole LeNet-5 step measured about 15% faster this
                  way than computing W @ cols).
* weight grad:    dW^T = cols @ dout  (matmul kernel): cols and dout^T are both stored row by
                  row, which is what the dot-product tiles read, so nothing is copied (on
                  LeNet-5's second conv half the time of an im2row layout with the rank-1
                  tiles). LeNet-5's first conv (25 x 20 outputs, k = 57,600) takes the
                  chunked ``long_k`` path.
* input grad:     dcols = W^T @ dout^T, then ``col2im`` sums the patches back, in parallel
  over input channels (a channel's rows only touch that channel: no race, deterministic).
* O(N OC C KH KW OH OW) flops per product; ``cols`` costs C*KH*KW*N*OH*OW floats of memory.
* The three products run on ``products`` (default ``matmul.NUMBA``, the Numba kernels;
  ``ops/conv.py`` passes the backend that ``ops/linalg.py`` chose).

Why im2col: the products then run in the blocked, vectorized matmul kernels, which a direct
7-deep loop nest does not match without re-deriving the same blocking. The price is memory
(cols is C*KH*KW times the output) and the im2col/col2im passes themselves.
Measurements: ``benchmarks/bench_conv.py`` and its JSON in ``benchmarks/results/``.
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange

from . import threads
from .matmul import NUMBA

# Entries of cols below which im2col / col2im run on one thread (benchmarks/bench_thresholds.py:
# two threads first gained >= 1.15x at 14,400 entries for im2col, 1.3x at 7,200-14,400 and
# 1.08x at 28,800 for col2im, about 15-30 us on one thread).
UNFOLD_MIN_ELEMENTS = 1 << 15


def output_size(size: int, kernel: int, stride: int, padding: int) -> int:
    return (size + 2 * padding - kernel) // stride + 1


@njit(cache=True, parallel=True)
def im2col(x, kh, kw, stride, padding):
    """x (N, C, H, W) -> cols (C*KH*KW, N*OH*OW); out-of-image taps are 0."""
    n, c, h, w = x.shape
    oh = (h + 2 * padding - kh) // stride + 1
    ow = (w + 2 * padding - kw) // stride + 1
    rows = c * kh * kw
    cols = np.empty((rows, n * oh * ow), dtype=x.dtype)
    previous = threads.serial_below(rows * n * oh * ow, UNFOLD_MIN_ELEMENTS)
    for r in prange(rows):
        ch = r // (kh * kw)
        ki = (r // kw) % kh
        kj = r % kw
        for b in range(n):
            base = b * oh * ow
            for i in range(oh):
                y = i * stride - padding + ki
                row_ok = 0 <= y < h
                for j in range(ow):
                    xx = j * stride - padding + kj
                    if row_ok and 0 <= xx < w:
                        cols[r, base + i * ow + j] = x[b, ch, y, xx]
                    else:
                        cols[r, base + i * ow + j] = 0.0
    threads.restore(previous)
    return cols


@njit(cache=True, parallel=True)
def col2im(cols, n, c, h, w, kh, kw, stride, padding):
    """Adjoint of im2col: sum every patch entry of cols (C*KH*KW, N*OH*OW) back into x."""
    oh = (h + 2 * padding - kh) // stride + 1
    ow = (w + 2 * padding - kw) // stride + 1
    x = np.empty((n, c, h, w), dtype=cols.dtype)  # np.zeros would be an ungated parallel loop
    previous = threads.serial_below(c * kh * kw * n * oh * ow, UNFOLD_MIN_ELEMENTS)
    for ch in prange(c):
        x[:, ch] = 0.0
        for ki in range(kh):
            for kj in range(kw):
                r = (ch * kh + ki) * kw + kj
                for b in range(n):
                    base = b * oh * ow
                    for i in range(oh):
                        y = i * stride - padding + ki
                        if 0 <= y < h:
                            for j in range(ow):
                                xx = j * stride - padding + kj
                                if 0 <= xx < w:
                                    x[b, ch, y, xx] += cols[r, base + i * ow + j]
    threads.restore(previous)
    return x


def conv2d_forward(x, weight, stride=1, padding=0, products=NUMBA):
    """out (N, OC, OH, OW) = x (N, C, H, W) correlated with weight (OC, C, KH, KW).

    Returns ``(out, cols)``: ``cols`` is kept for the weight gradient."""
    n, _, h, w = x.shape
    oc, c, kh, kw = weight.shape
    oh, ow = output_size(h, kh, stride, padding), output_size(w, kw, stride, padding)
    cols = im2col(x, kh, kw, stride, padding)
    out_nhwc = products.matmul(cols.T, weight.reshape(oc, -1).T)             # (N*OH*OW, OC)
    out = np.ascontiguousarray(out_nhwc.reshape(n, oh, ow, oc).transpose(0, 3, 1, 2))
    return out, cols


def _grad_out_t(grad_out):
    n, oc, oh, ow = grad_out.shape
    return np.ascontiguousarray(grad_out.transpose(1, 0, 2, 3)).reshape(oc, n * oh * ow)


def conv2d_weight_grad(grad_out, cols, weight_shape, products=NUMBA):
    """dL/dW (OC, C, KH, KW) from dL/dout (N, OC, OH, OW) and the forward's cols.

    Computed as (cols @ dout) transposed: cols and dout^T are then both read in place (see
    the module docstring)."""
    dw_t = products.matmul(cols, _grad_out_t(grad_out).T)                    # (C*KH*KW, OC)
    return np.ascontiguousarray(dw_t.T).reshape(weight_shape)


def conv2d_input_grad(grad_out, weight, input_shape, stride=1, padding=0, products=NUMBA):
    """dL/dx (N, C, H, W) from dL/dout and the weight."""
    oc, c, kh, kw = weight.shape
    dcols = products.matmul(weight.reshape(oc, -1).T, _grad_out_t(grad_out))  # (C*KH*KW, N*OH*OW)
    n, _, h, w = input_shape
    return col2im(dcols, n, c, h, w, kh, kw, stride, padding)
