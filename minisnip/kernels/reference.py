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


def max_pool2d_backward(grad_out, x, kh, kw, stride):
    """Each window's gradient goes to its first maximum (row-major), summed where windows
    overlap."""
    n, c, h, w = x.shape
    first = _windows(x, kh, kw, stride).argmax(axis=-1)  # argmax returns the first maximum
    _, _, oh, ow = first.shape
    grad = np.zeros(x.shape, dtype=np.float64)
    rows = np.arange(oh)[:, None] * stride + first // kw
    cols = np.arange(ow)[None, :] * stride + first % kw
    nn, cc = np.meshgrid(np.arange(n), np.arange(c), indexing="ij")
    np.add.at(grad, (nn[:, :, None, None], cc[:, :, None, None], rows, cols), grad_out)
    return grad.astype(grad_out.dtype)


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


# ------------------------------------------------------------------ kernels/recurrent.py
def _sig(v):
    return 1.0 / (1.0 + np.exp(-v))


def lstm_forward(x, h0, c0, w_ih, w_hh, b_ih, b_hh):
    """The LSTM equations one step at a time; returns hs (T, B, H)."""
    h, c, hs = h0.astype(np.float64), c0.astype(np.float64), []
    for xt in x.astype(np.float64):
        i, f, g, o = np.split(xt @ w_ih.T + b_ih + h @ w_hh.T + b_hh, 4, axis=1)
        c = _sig(f) * c + _sig(i) * np.tanh(g)
        h = _sig(o) * np.tanh(c)
        hs.append(h)
    return np.stack(hs).astype(x.dtype)


def gru_forward(x, h0, w_ih, w_hh, b_ih, b_hh):
    """The GRU equations one step at a time (PyTorch's placement of b_hn); hs (T, B, H)."""
    h, hs = h0.astype(np.float64), []
    for xt in x.astype(np.float64):
        xr, xz, xn = np.split(xt @ w_ih.T + b_ih, 3, axis=1)
        hr, hz, hn = np.split(h @ w_hh.T + b_hh, 3, axis=1)
        r, z = _sig(xr + hr), _sig(xz + hz)
        n = np.tanh(xn + r * hn)
        h = (1 - z) * n + z * h
        hs.append(h)
    return np.stack(hs).astype(x.dtype)


# ---------------------------------------------------------------------- kernels/optim.py
def sgd_step(w, g, buf, mask, lr, momentum, dampening, weight_decay, nesterov, first):
    """torch.optim.SGD's documented algorithm, one line per line of its pseudo-code, on the
    kept entries; pruned entries (mask 0) end with weight and buffer 0. In place on w, buf."""
    kept = mask != 0 if mask.size else np.ones(w.shape, dtype=bool)
    g_t = g + weight_decay * w if weight_decay != 0 else g
    if momentum != 0:
        b_t = g_t if first else momentum * buf + (1 - dampening) * g_t
        g_t = g_t + momentum * b_t if nesterov else b_t
        buf[...] = np.where(kept, b_t, 0)
    w[...] = np.where(kept, w - lr * g_t, 0)


def adam_step(w, g, m, v, mask, lr, beta1, beta2, eps, weight_decay, step):
    """torch.optim.Adam's documented algorithm (amsgrad off, L2 weight decay) on the kept
    entries; pruned entries end with weight and both moments 0. In place on w, m, v."""
    kept = mask != 0 if mask.size else np.ones(w.shape, dtype=bool)
    g_t = g + weight_decay * w if weight_decay != 0 else g
    m_t = beta1 * m + (1 - beta1) * g_t
    v_t = beta2 * v + (1 - beta2) * g_t ** 2
    m_hat = m_t / (1 - beta1 ** step)
    v_hat = v_t / (1 - beta2 ** step)
    m[...] = np.where(kept, m_t, 0)
    v[...] = np.where(kept, v_t, 0)
    w[...] = np.where(kept, w - lr * m_hat / (np.sqrt(v_hat) + eps), 0)


# --------------------------------------------------------------------- kernels/sparse.py
def sparse_linear(x, weight, mask):
    """The sparse layer is the dense one with the mask applied: x (c * W)^T."""
    return x @ (mask * weight).T
