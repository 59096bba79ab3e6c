"""Max and average pooling over (KH, KW) windows, NCHW, forward and backward, with a stride
and a zero-or-more padding per direction (PyTorch's ``max_pool2d`` / ``avg_pool2d`` with
``dilation=1``, ``ceil_mode=False``; average pooling with ``count_include_pad=True``).

``kernel``, ``stride`` and ``padding`` are pairs (height, width). Window (i, j) covers rows
``i * sh - ph .. i * sh - ph + kh - 1`` and columns ``j * sw - pw .. j * sw - pw + kw - 1`` of
the input; the output is ``((H + 2 ph - kh) // sh + 1, (W + 2 pw - kw) // sw + 1)``. The
padding is never stored: each window's loops run over the cells that lie inside the input.
The caller (``ops/conv.py``) guarantees what PyTorch requires, padding <= kernel / 2, so that
every window holds at least one input cell.

Max pooling pads with -inf: a padding cell never wins. It records the flat index (in H*W) of
each window's maximum and the backward sends the gradient there only. As PyTorch: on ties the
first maximum in row-major order wins; a NaN in the window makes the output NaN, and its index
is the window's last NaN; a window of -inf only gives -inf at its first input cell.
Average pooling divides by kh * kw, padding cells included (they count as zeros).

Performance contract: parallel over the N*C planes (each plane is read and written by one
thread: deterministic, no race even when windows overlap), serial below ``POOL_MIN_CELLS`` =
2^14 window cells (measured); O(N C OH OW KH KW).
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange

from . import threads

# Window cells (N*C*OH*OW*KH*KW; the backward of max pooling: the larger of the output and
# the input) below which a kernel runs on one thread: two threads first gained 1.9x at 2^14
# cells of 2x2 max pooling (50 us on one thread; benchmarks/bench_thresholds.py).
POOL_MIN_CELLS = 1 << 14


@njit(cache=True)
def _output_size(size, kernel, stride, padding):
    return (size + 2 * padding - kernel) // stride + 1


@njit(cache=True, parallel=True)
def max_pool2d_forward(x, kernel, stride, padding):
    """(out (N, C, OH, OW), argmax (N, C, OH, OW) int64 flat indices into each H*W plane)."""
    n, c, h, w = x.shape
    kh, kw = kernel
    sh, sw = stride
    ph, pw = padding
    oh, ow = _output_size(h, kh, sh, ph), _output_size(w, kw, sw, pw)
    out = np.empty((n, c, oh, ow), dtype=x.dtype)
    argmax = np.empty((n, c, oh, ow), dtype=np.int64)
    previous = threads.serial_below(n * c * oh * ow * kh * kw, POOL_MIN_CELLS)
    for p in prange(n * c):
        b = p // c
        ch = p % c
        for i in range(oh):
            top = i * sh - ph
            r0, r1 = max(top, 0), min(top + kh, h)
            for j in range(ow):
                left = j * sw - pw
                c0, c1 = max(left, 0), min(left + kw, w)
                best = -np.inf              # the padding's value
                where = r0 * w + c0         # the window's first input cell
                for r in range(r0, r1):
                    for col in range(c0, c1):
                        v = x[b, ch, r, col]
                        if v > best or np.isnan(v):
                            best = v
                            where = r * w + col
                out[b, ch, i, j] = best
                argmax[b, ch, i, j] = where
    threads.restore(previous)
    return out, argmax


@njit(cache=True, parallel=True)
def max_pool2d_backward(grad_out, argmax, h, w):
    n, c, oh, ow = grad_out.shape
    grad = np.empty((n, c, h * w), dtype=grad_out.dtype)  # flat planes: argmax indexes them
    previous = threads.serial_below(n * c * max(oh * ow, h * w), POOL_MIN_CELLS)
    for p in prange(n * c):
        b = p // c
        ch = p % c
        grad[b, ch] = 0.0  # here, not np.zeros: that would be an ungated parallel loop
        for i in range(oh):
            for j in range(ow):
                grad[b, ch, argmax[b, ch, i, j]] += grad_out[b, ch, i, j]
    threads.restore(previous)
    return grad.reshape(n, c, h, w)


@njit(cache=True, parallel=True)
def avg_pool2d_forward(x, kernel, stride, padding):
    n, c, h, w = x.shape
    kh, kw = kernel
    sh, sw = stride
    ph, pw = padding
    oh, ow = _output_size(h, kh, sh, ph), _output_size(w, kw, sw, pw)
    out = np.empty((n, c, oh, ow), dtype=x.dtype)
    scale = 1.0 / (kh * kw)         # padding cells count (as zeros): count_include_pad=True
    previous = threads.serial_below(n * c * oh * ow * kh * kw, POOL_MIN_CELLS)
    for p in prange(n * c):
        b = p // c
        ch = p % c
        for i in range(oh):
            top = i * sh - ph
            r0, r1 = max(top, 0), min(top + kh, h)
            for j in range(ow):
                left = j * sw - pw
                c0, c1 = max(left, 0), min(left + kw, w)
                s = 0.0
                for r in range(r0, r1):
                    for col in range(c0, c1):
                        s += x[b, ch, r, col]
                out[b, ch, i, j] = s * scale
    threads.restore(previous)
    return out


@njit(cache=True, parallel=True)
def avg_pool2d_backward(grad_out, kernel, stride, padding, h, w):
    n, c, oh, ow = grad_out.shape
    kh, kw = kernel
    sh, sw = stride
    ph, pw = padding
    grad = np.empty((n, c, h, w), dtype=grad_out.dtype)
    scale = 1.0 / (kh * kw)
    previous = threads.serial_below(n * c * oh * ow * kh * kw, POOL_MIN_CELLS)
    for p in prange(n * c):
        b = p // c
        ch = p % c
        grad[b, ch] = 0.0
        for i in range(oh):
            top = i * sh - ph
            r0, r1 = max(top, 0), min(top + kh, h)
            for j in range(ow):
                left = j * sw - pw
                c0, c1 = max(left, 0), min(left + kw, w)
                g = grad_out[b, ch, i, j] * scale
                for r in range(r0, r1):
                    for col in range(c0, c1):
                        grad[b, ch, r, col] += g
    threads.restore(previous)
    return grad
