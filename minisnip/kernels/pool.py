"""Max and average pooling over (KH, KW) windows, NCHW, forward and backward.

Performance contract: parallel over the N*C planes (each plane is read and written by one
thread: deterministic, no race even when windows overlap); O(N C OH OW KH KW).
Max pooling records the flat index (in H*W) of each window's maximum and the backward sends
the gradient there only. As PyTorch: on ties the first maximum in row-major order wins; a NaN
in the window makes the output NaN, and its index is the window's last NaN.
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange


@njit(cache=True, parallel=True)
def max_pool2d_forward(x, kh, kw, stride):
    n, c, h, w = x.shape
    oh = (h - kh) // stride + 1
    ow = (w - kw) // stride + 1
    out = np.empty((n, c, oh, ow), dtype=x.dtype)
    argmax = np.empty((n, c, oh, ow), dtype=np.int64)
    for p in prange(n * c):
        b = p // c
        ch = p % c
        for i in range(oh):
            for j in range(ow):
                best = x[b, ch, i * stride, j * stride]
                where = (i * stride) * w + j * stride
                for ki in range(kh):
                    for kj in range(kw):
                        v = x[b, ch, i * stride + ki, j * stride + kj]
                        if v > best or np.isnan(v):
                            best = v
                            where = (i * stride + ki) * w + j * stride + kj
                out[b, ch, i, j] = best
                argmax[b, ch, i, j] = where
    return out, argmax


@njit(cache=True, parallel=True)
def max_pool2d_backward(grad_out, argmax, h, w):
    n, c, oh, ow = grad_out.shape
    grad = np.zeros((n, c, h * w), dtype=grad_out.dtype)  # flat planes: argmax indexes them
    for p in prange(n * c):
        b = p // c
        ch = p % c
        for i in range(oh):
            for j in range(ow):
                grad[b, ch, argmax[b, ch, i, j]] += grad_out[b, ch, i, j]
    return grad.reshape(n, c, h, w)


@njit(cache=True, parallel=True)
def avg_pool2d_forward(x, kh, kw, stride):
    n, c, h, w = x.shape
    oh = (h - kh) // stride + 1
    ow = (w - kw) // stride + 1
    out = np.empty((n, c, oh, ow), dtype=x.dtype)
    scale = 1.0 / (kh * kw)
    for p in prange(n * c):
        b = p // c
        ch = p % c
        for i in range(oh):
            for j in range(ow):
                s = 0.0
                for ki in range(kh):
                    for kj in range(kw):
                        s += x[b, ch, i * stride + ki, j * stride + kj]
                out[b, ch, i, j] = s * scale
    return out


@njit(cache=True, parallel=True)
def avg_pool2d_backward(grad_out, kh, kw, stride, h, w):
    n, c, oh, ow = grad_out.shape
    grad = np.zeros((n, c, h, w), dtype=grad_out.dtype)
    scale = 1.0 / (kh * kw)
    for p in prange(n * c):
        b = p // c
        ch = p % c
        for i in range(oh):
            for j in range(ow):
                g = grad_out[b, ch, i, j] * scale
                for ki in range(kh):
                    for kj in range(kw):
                        grad[b, ch, i * stride + ki, j * stride + kj] += g
    return grad
