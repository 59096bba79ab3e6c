"""Slow, obvious NumPy versions of every Numba kernel: the oracles the tests compare against.

Each function here has the same signature and returns the same thing as the kernel of the
same name in its ``kernels/<family>.py`` module. Clarity over speed: loops and ``einsum``
where they say what the kernel computes.
"""
from __future__ import annotations

import numpy as np


# --------------------------------------------------------------------- kernels/matmul.py
def matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """C[i, j] = sum_k A[i, k] B[k, j], accumulated in float64 then cast back."""
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[0]:
        raise ValueError(f"matmul oracle: shapes {a.shape} and {b.shape} do not fit")
    dtype = np.result_type(a.dtype, b.dtype)
    return np.einsum("ik,kj->ij", a.astype(np.float64), b.astype(np.float64)).astype(dtype)


# ----------------------------------------------------------------------- kernels/conv.py
def conv2d(x, weight, stride=1, padding=0):
    """out[n, o, i, j] = sum_{c, a, b} x_pad[n, c, i*s + a, j*s + b] * weight[o, c, a, b]."""
    n, c, h, w = x.shape
    oc, _, kh, kw = weight.shape
    xp = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    oh, ow = (h + 2 * padding - kh) // stride + 1, (w + 2 * padding - kw) // stride + 1
    out = np.zeros((n, oc, oh, ow))
    for a in range(kh):
        for b in range(kw):
            patch = xp[:, :, a:a + stride * oh:stride, b:b + stride * ow:stride]
            out += np.einsum("ncij,oc->noij", patch, weight[:, :, a, b].astype(np.float64))
    return out.astype(x.dtype)


def conv2d_input_grad(grad_out, weight, input_shape, stride=1, padding=0):
    n, c, h, w = input_shape
    _, _, kh, kw = weight.shape
    _, _, oh, ow = grad_out.shape
    gp = np.zeros((n, c, h + 2 * padding, w + 2 * padding))
    for a in range(kh):
        for b in range(kw):
            gp[:, :, a:a + stride * oh:stride, b:b + stride * ow:stride] += np.einsum(
                "noij,oc->ncij", grad_out.astype(np.float64), weight[:, :, a, b].astype(np.float64))
    return gp[:, :, padding:padding + h, padding:padding + w].astype(grad_out.dtype)


def conv2d_weight_grad(grad_out, x, weight_shape, stride=1, padding=0):
    oc, c, kh, kw = weight_shape
    _, _, oh, ow = grad_out.shape
    xp = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    gw = np.zeros(weight_shape)
    for a in range(kh):
        for b in range(kw):
            patch = xp[:, :, a:a + stride * oh:stride, b:b + stride * ow:stride]
            gw[:, :, a, b] = np.einsum("noij,ncij->oc", grad_out.astype(np.float64), patch)
    return gw.astype(grad_out.dtype)


# ----------------------------------------------------------------------- kernels/pool.py
def _windows(x, kh, kw, stride):
    n, c, h, w = x.shape
    oh, ow = (h - kh) // stride + 1, (w - kw) // stride + 1
    win = np.empty((n, c, oh, ow, kh * kw), dtype=x.dtype)
    for a in range(kh):
        for b in range(kw):
            win[..., a * kw + b] = x[:, :, a:a + stride * oh:stride, b:b + stride * ow:stride]
    return win


def max_pool2d(x, kh, kw, stride):
    return _windows(x, kh, kw, stride).max(axis=-1)


def avg_pool2d(x, kh, kw, stride):
    return _windows(x, kh, kw, stride).mean(axis=-1).astype(x.dtype)


# ------------------------------------------------------------------ kernels/batchnorm.py
def batch_norm_train(x, gamma, beta, eps):
    """(y, mean, biased var) with statistics over (N, H, W)."""
    x64 = x.astype(np.float64)
    mean = x64.mean(axis=(0, 2, 3))
    var = x64.var(axis=(0, 2, 3))
    xhat = (x64 - mean[None, :, None, None]) / np.sqrt(var[None, :, None, None] + eps)
    y = gamma[None, :, None, None] * xhat + beta[None, :, None, None]
    return y.astype(x.dtype), mean, var
