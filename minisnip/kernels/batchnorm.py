"""Batch normalization over (N, H, W) per channel, NCHW, fused forward and backward.

Performance contract: parallel over channels, serial below ``NORM_MIN_ELEMENTS`` = 2^15
elements (not yet measured: see the constant); one pass for the mean, one for the variance,
one to normalize (forward); two passes backward. Statistics accumulate in float64 whatever
the data type, so float32 batches do not lose precision. O(N C H W).

forward (training): mu = mean(x), var = mean((x - mu)^2) (biased, used to normalize),
    xhat = (x - mu) / sqrt(var + eps), y = gamma * xhat + beta
backward: with M = N*H*W, dbeta = sum(dy), dgamma = sum(dy * xhat),
    dx = gamma / sqrt(var + eps) / M * (M * dy - dbeta - xhat * dgamma)
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange

from . import threads

# Elements N*C*H*W below which a kernel runs on one thread. Not measured yet: every size of
# benchmarks/bench_thresholds.py stalled on a loaded machine; 2^15 elements is about 65 us on
# one thread, where the other elementwise families had long repaid a wake-up.
NORM_MIN_ELEMENTS = 1 << 15


@njit(cache=True, parallel=True)
def batch_norm_train_forward(x, gamma, beta, eps):
    """Returns (y, xhat, mean, var, inv_std); var is the biased batch variance."""
    n, c, h, w = x.shape
    m = n * h * w
    y = np.empty_like(x)
    xhat = np.empty_like(x)
    mean = np.empty(c, dtype=np.float64)
    var = np.empty(c, dtype=np.float64)
    inv_std = np.empty(c, dtype=np.float64)
    previous = threads.serial_below(n * c * h * w, NORM_MIN_ELEMENTS)
    for ch in prange(c):
        s = np.float64(0.0)  # float64 also without the JIT (0.0 + float32 is float32 in NumPy)
        for b in range(n):
            for i in range(h):
                for j in range(w):
                    s += x[b, ch, i, j]
        mu = s / m
        s2 = np.float64(0.0)
        for b in range(n):
            for i in range(h):
                for j in range(w):
                    d = x[b, ch, i, j] - mu
                    s2 += d * d
        v = s2 / m
        inv = 1.0 / np.sqrt(v + eps)
        mean[ch], var[ch], inv_std[ch] = mu, v, inv
        for b in range(n):
            for i in range(h):
                for j in range(w):
                    xh = (x[b, ch, i, j] - mu) * inv
                    xhat[b, ch, i, j] = xh
                    y[b, ch, i, j] = gamma[ch] * xh + beta[ch]
    threads.restore(previous)
    return y, xhat, mean, var, inv_std


@njit(cache=True, parallel=True)
def batch_norm_eval_forward(x, gamma, beta, running_mean, running_var, eps):
    n, c, h, w = x.shape
    y = np.empty_like(x)
    previous = threads.serial_below(n * c * h * w, NORM_MIN_ELEMENTS)
    for ch in prange(c):
        inv = 1.0 / np.sqrt(running_var[ch] + eps)
        scale = gamma[ch] * inv
        shift = beta[ch] - running_mean[ch] * scale
        for b in range(n):
            for i in range(h):
                for j in range(w):
                    y[b, ch, i, j] = x[b, ch, i, j] * scale + shift
    threads.restore(previous)
    return y


@njit(cache=True, parallel=True)
def batch_norm_train_backward(grad, xhat, gamma, inv_std):
    """Returns (dx, dgamma, dbeta) for the training-mode forward."""
    n, c, h, w = grad.shape
    m = n * h * w
    dx = np.empty_like(grad)
    dgamma = np.empty(c, dtype=np.float64)
    dbeta = np.empty(c, dtype=np.float64)
    previous = threads.serial_below(n * c * h * w, NORM_MIN_ELEMENTS)
    for ch in prange(c):
        sg = np.float64(0.0)
        sgx = np.float64(0.0)
        for b in range(n):
            for i in range(h):
                for j in range(w):
                    g = grad[b, ch, i, j]
                    sg += g
                    sgx += g * xhat[b, ch, i, j]
        dgamma[ch], dbeta[ch] = sgx, sg
        k = gamma[ch] * inv_std[ch] / m
        for b in range(n):
            for i in range(h):
                for j in range(w):
                    dx[b, ch, i, j] = k * (m * grad[b, ch, i, j] - sg - xhat[b, ch, i, j] * sgx)
    threads.restore(previous)
    return dx, dgamma, dbeta
