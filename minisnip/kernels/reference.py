"""Slow, obvious NumPy versions of every kernel: the oracles the tests compare against.

Every public function of a ``kernels/<family>.py`` module has a function here with the same
name and the same parameters, returning the same thing (and writing the same output arrays,
for the kernels that write into arrays they are given); ``tests/test_kernels.py`` fails for a
kernel without its oracle. Each oracle is written from the definition of what its kernel
computes, not from the kernel's code: loops over windows, ``einsum``, dense matrices where the
kernel is sparse, the explicit Jacobian where the kernel has a fused formula, the documented
algorithm where the kernel follows one (PyTorch's optimizers). Sums are taken in float64 and
cast back to the kernel's output type. Parameters an oracle does not need (``products``, the
matmul backend of a composite kernel; ``block``, a tiling choice) are accepted and ignored:
they must not change the result.

Nothing here imports minisnip outside ``kernels/``: the oracles that use the autodiff engine
(the backward through time, differentiated op by op) live in ``tests/autodiff_oracles.py``.
"""
from __future__ import annotations

import numpy as np

from .matmul import NR


def _f64(a):
    return np.asarray(a, dtype=np.float64)


# ----------------------------------------------------------------- kernels/activations.py
def sigmoid(v):
    """1 / (1 + exp(-v)) as written (exp may overflow to inf for very negative v: the result
    is then 0, as it should be)."""
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-_f64(v)))


def sigmoid_array(x):
    return sigmoid(x).astype(x.dtype)


# ---------------------------------------------------------------------- kernels/matmul.py
def _product_dtype(a, b):
    dtype = np.result_type(a.dtype, b.dtype)
    return dtype if dtype in (np.float32, np.float64) else np.dtype(np.float64)


def matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """C[i, j] = sum_k A[i, k] B[k, j], accumulated in float64, returned in the wider float
    type of the two (float64 for anything else)."""
    if a.ndim != 2 or b.ndim != 2:
        raise ValueError(f"matmul oracle: expected 2-D arrays, got shapes {a.shape} and {b.shape}")
    if a.shape[1] != b.shape[0]:
        raise ValueError(f"matmul oracle: shapes {a.shape} and {b.shape} do not fit "
                         f"(inner dimensions {a.shape[1]} != {b.shape[0]})")
    return np.einsum("ik,kj->ij", _f64(a), _f64(b)).astype(_product_dtype(a, b))


def pack_columns(b):
    """B (K, N) as strips of NR columns, zero-padded on the right: out[s, k, j] = B[k, s*NR + j]."""
    k, n = b.shape
    out = np.zeros((-(-n // NR), k, NR), dtype=b.dtype)
    for s in range(out.shape[0]):
        width = min(NR, n - s * NR)
        out[s, :, :width] = b[:, s * NR:s * NR + width]
    return out


def tiles(a, b_packed, n):
    """A @ B, with B recovered from its strips (the first n columns)."""
    b = np.concatenate(list(b_packed), axis=1)[:, :n]
    return matmul(a, b).astype(a.dtype)


def long_k(a, bt):
    """A @ B from A (M, K) and B^T (N, K)."""
    return matmul(a, bt.T).astype(a.dtype)


def dot_tiles(a, bt, block):
    """A @ B from A (M, K) and B^T (N, K); ``block`` only orders the work."""
    return matmul(a, bt.T).astype(a.dtype)


def transposed(x):
    return np.array(x.T, order="C")


def row_contiguous(x):
    return np.ascontiguousarray(x)


def dot_block(k: int, itemsize: int) -> int:
    """The largest multiple of 4 rows, at most 64, whose k entries fit in 1 MB; at least 4."""
    rows = 64
    while rows > 4 and rows * k * itemsize > 2 ** 20:
        rows -= 4
    return rows


class RightOperand:
    """B, for many products ``a @ B``."""

    def __init__(self, b):
        self.b = b

    def left_multiply(self, a):
        return matmul(a, self.b)


# ------------------------------------------------------------------------ kernels/conv.py
def output_size(size: int, kernel: int, stride: int, padding: int) -> int:
    """How many windows of ``kernel`` fit, stepping by ``stride``, in the padded size."""
    count, start = 0, 0
    while start + kernel <= size + 2 * padding:
        count, start = count + 1, start + stride
    return count


def _padded(x, padding):
    return np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))


def im2col(x, kh, kw, stride, padding):
    """cols[(c, a, b), (n, i, j)] = x_padded[n, c, i*stride + a, j*stride + b]."""
    n, c, h, w = x.shape
    oh, ow = output_size(h, kh, stride, padding), output_size(w, kw, stride, padding)
    xp = _padded(x, padding)
    patches = np.empty((c, kh, kw, n, oh, ow), dtype=x.dtype)
    for a in range(kh):
        for b in range(kw):
            window = xp[:, :, a:a + stride * oh:stride, b:b + stride * ow:stride]
            patches[:, a, b] = window.transpose(1, 0, 2, 3)
    return patches.reshape(c * kh * kw, n * oh * ow)


def col2im(cols, n, c, h, w, kh, kw, stride, padding):
    """The adjoint of im2col: every entry of cols added back where im2col read it."""
    oh, ow = output_size(h, kh, stride, padding), output_size(w, kw, stride, padding)
    patches = _f64(cols).reshape(c, kh, kw, n, oh, ow)
    xp = np.zeros((n, c, h + 2 * padding, w + 2 * padding))
    for a in range(kh):
        for b in range(kw):
            xp[:, :, a:a + stride * oh:stride, b:b + stride * ow:stride] += \
                patches[:, a, b].transpose(1, 0, 2, 3)
    return xp[:, :, padding:padding + h, padding:padding + w].astype(cols.dtype)


def conv2d_forward(x, weight, stride=1, padding=0, products=None):
    """out[n, o, i, j] = sum_{c, a, b} x_pad[n, c, i*s + a, j*s + b] * weight[o, c, a, b];
    returns (out, cols) as the kernel does, cols = im2col(x)."""
    n, c, h, w = x.shape
    oc, _, kh, kw = weight.shape
    oh, ow = output_size(h, kh, stride, padding), output_size(w, kw, stride, padding)
    xp = _f64(_padded(x, padding))
    out = np.zeros((n, oc, oh, ow))
    for a in range(kh):
        for b in range(kw):
            patch = xp[:, :, a:a + stride * oh:stride, b:b + stride * ow:stride]
            out += np.einsum("ncij,oc->noij", patch, _f64(weight[:, :, a, b]))
    return out.astype(_product_dtype(x, weight)), im2col(x, kh, kw, stride, padding)


def conv2d_input_grad(grad_out, weight, input_shape, stride=1, padding=0, products=None):
    """dL/dx: every output's gradient times the weight, added back at the input it read."""
    n, c, h, w = input_shape
    _, _, kh, kw = weight.shape
    _, _, oh, ow = grad_out.shape
    gp = np.zeros((n, c, h + 2 * padding, w + 2 * padding))
    for a in range(kh):
        for b in range(kw):
            gp[:, :, a:a + stride * oh:stride, b:b + stride * ow:stride] += np.einsum(
                "noij,oc->ncij", _f64(grad_out), _f64(weight[:, :, a, b]))
    return gp[:, :, padding:padding + h, padding:padding + w].astype(
        _product_dtype(grad_out, weight))


def conv2d_weight_grad(grad_out, cols, weight_shape, products=None):
    """dL/dW[o, c, a, b] = sum_{n, i, j} dL/dout[n, o, i, j] * x_pad[n, c, i*s + a, j*s + b],
    the input patches read from cols (cols[(c, a, b), (n, i, j)])."""
    oc, c, kh, kw = weight_shape
    n, _, oh, ow = grad_out.shape
    patches = _f64(cols).reshape(c, kh, kw, n, oh, ow)
    return np.einsum("noij,cabnij->ocab", _f64(grad_out), patches).astype(
        _product_dtype(grad_out, cols))


# ------------------------------------------------------------------------ kernels/pool.py
def _pool_output(h, w, kernel, stride, padding):
    return tuple((size + 2 * p - k) // s + 1
                 for size, k, s, p in zip((h, w), kernel, stride, padding))


def _window_cells(h, w, i, j, kernel, stride, padding):
    """Rows and columns of window (i, j) in the input, row-major, the padding left out."""
    top, left = i * stride[0] - padding[0], j * stride[1] - padding[1]
    rows, cols = np.meshgrid(np.arange(top, top + kernel[0]), np.arange(left, left + kernel[1]),
                             indexing="ij")
    inside = (rows >= 0) & (rows < h) & (cols >= 0) & (cols < w)
    return rows[inside], cols[inside]


def max_pool2d_forward(x, kernel, stride, padding):
    """(values, flat indices) of each window's maximum, by PyTorch's rule: the padding is -inf
    (it never wins: the window's input cells are compared); the window's last NaN if it has
    one, else its first maximum in row-major order."""
    n, c, h, w = x.shape
    oh, ow = _pool_output(h, w, kernel, stride, padding)
    out = np.empty((n, c, oh, ow), dtype=x.dtype)
    where = np.empty((n, c, oh, ow), dtype=np.int64)
    for b, ch, i, j in np.ndindex(n, c, oh, ow):
        rows, cols = _window_cells(h, w, i, j, kernel, stride, padding)
        values, flat = x[b, ch, rows, cols], rows * w + cols
        nans = np.flatnonzero(np.isnan(values))
        pick = nans[-1] if nans.size else np.argmax(values)  # argmax: the first maximum
        out[b, ch, i, j], where[b, ch, i, j] = values[pick], flat[pick]
    return out, where


def max_pool2d_backward(grad_out, argmax, h, w):
    """Each window's gradient added at its maximum (windows may share one)."""
    n, c = grad_out.shape[:2]
    grad = np.zeros((n, c, h * w))
    for b, ch in np.ndindex(n, c):
        np.add.at(grad[b, ch], argmax[b, ch].ravel(), _f64(grad_out[b, ch]).ravel())
    return grad.reshape(n, c, h, w).astype(grad_out.dtype)


def _zero_padded(x, padding):
    (ph, pw) = padding
    return np.pad(_f64(x), ((0, 0), (0, 0), (ph, ph), (pw, pw)))


def avg_pool2d_forward(x, kernel, stride, padding):
    """The mean of each kh x kw window of the zero-padded input (count_include_pad=True)."""
    (kh, kw), (sh, sw) = kernel, stride
    padded = _zero_padded(x, padding)
    n, c = x.shape[:2]
    oh, ow = _pool_output(*x.shape[2:], kernel, stride, padding)
    out = np.empty((n, c, oh, ow))
    for i, j in np.ndindex(oh, ow):
        out[:, :, i, j] = padded[:, :, i * sh:i * sh + kh, j * sw:j * sw + kw].mean(axis=(2, 3))
    return out.astype(x.dtype)


def avg_pool2d_backward(grad_out, kernel, stride, padding, h, w):
    """Each window's gradient spread evenly over its kh*kw cells of the padded plane; the
    padding's share is dropped."""
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, padding
    n, c, oh, ow = grad_out.shape
    padded = np.zeros((n, c, h + 2 * ph, w + 2 * pw))
    for i, j in np.ndindex(oh, ow):
        padded[:, :, i * sh:i * sh + kh, j * sw:j * sw + kw] += (
            _f64(grad_out[:, :, i, j])[:, :, None, None] / (kh * kw))
    return padded[:, :, ph:ph + h, pw:pw + w].astype(grad_out.dtype)


# ------------------------------------------------------------------- kernels/batchnorm.py
def batch_norm_train_forward(x, gamma, beta, eps):
    """(y, xhat, mean, biased var, 1 / sqrt(var + eps)), statistics over (N, H, W)."""
    x64 = _f64(x)
    mean = x64.mean(axis=(0, 2, 3))
    var = x64.var(axis=(0, 2, 3))
    inv_std = 1.0 / np.sqrt(var + eps)
    xhat = (x64 - mean[None, :, None, None]) * inv_std[None, :, None, None]
    y = _f64(gamma)[None, :, None, None] * xhat + _f64(beta)[None, :, None, None]
    return y.astype(x.dtype), xhat.astype(x.dtype), mean, var, inv_std


def batch_norm_eval_forward(x, gamma, beta, running_mean, running_var, eps):
    """y = gamma (x - running_mean) / sqrt(running_var + eps) + beta."""
    def per_channel(v):
        return _f64(v)[None, :, None, None]
    y = (per_channel(gamma) * (_f64(x) - per_channel(running_mean))
         / np.sqrt(per_channel(running_var) + eps) + per_channel(beta))
    return y.astype(x.dtype)


def batch_norm_train_backward(grad, xhat, gamma, inv_std):
    """(dx, dgamma, dbeta) through the explicit Jacobian of each channel's normalization: with
    M = N*H*W values, d xhat_p / d x_q = inv_std (delta_pq - 1/M - xhat_p xhat_q / M), and
    dx = gamma J^T dy. O(M^2) memory per channel: for the tests' small batches."""
    n, c, h, w = grad.shape
    m = n * h * w
    dx = np.empty((n, c, h, w))
    dgamma, dbeta = np.empty(c), np.empty(c)
    for ch in range(c):
        dy = _f64(grad[:, ch]).ravel()
        xh = _f64(xhat[:, ch]).ravel()
        jacobian = inv_std[ch] * (np.eye(m) - 1.0 / m - np.outer(xh, xh) / m)
        dx[:, ch] = (gamma[ch] * jacobian.T @ dy).reshape(n, h, w)
        dgamma[ch], dbeta[ch] = dy @ xh, dy.sum()
    return dx.astype(grad.dtype), dgamma, dbeta


# ------------------------------------------------------------------- kernels/recurrent.py
def _split(a, parts):
    return np.split(_f64(a), parts, axis=-1)


def lstm_cell_forward(pre, c_prev, gates, c_out, h_out):
    """i, f, g, o = s(pre_i), s(pre_f), tanh(pre_g), s(pre_o); c = f c_prev + i g;
    h = o tanh(c). Written into gates, c_out, h_out."""
    pi, pf, pg, po = _split(pre, 4)
    i, f, g, o = sigmoid(pi), sigmoid(pf), np.tanh(pg), sigmoid(po)
    c = f * _f64(c_prev) + i * g
    gates[...] = np.concatenate([i, f, g, o], axis=1)
    c_out[...] = c
    h_out[...] = o * np.tanh(c)


def lstm_cell_backward(dh, dc_next, gates, c, c_prev, dpre, dc_prev):
    """The chain rule through one step, one named derivative at a time, into dpre, dc_prev."""
    i, f, g, o = _split(gates, 4)
    tanh_c = np.tanh(_f64(c))
    d_o = _f64(dh) * tanh_c                                        # h = o tanh(c)
    d_c = _f64(dh) * o * (1 - tanh_c ** 2) + _f64(dc_next)         # ... and from step t+1
    d_i, d_f, d_g = d_c * g, d_c * _f64(c_prev), d_c * i           # c = f c_prev + i g
    # s'(v) = s (1 - s) for the sigmoid gates, tanh' = 1 - tanh^2 for g
    dpre[...] = np.concatenate([d_i * i * (1 - i), d_f * f * (1 - f), d_g * (1 - g ** 2),
                                d_o * o * (1 - o)], axis=1)
    dc_prev[...] = d_c * f


def gru_cell_forward(xw, hw, h_prev, gates, h_out):
    """r = s(xr + hr), z = s(xz + hz), n = tanh(xn + r hn), h = (1 - z) n + z h_prev."""
    xr, xz, xn = _split(xw, 3)
    hr, hz, hn = _split(hw, 3)
    r, z = sigmoid(xr + hr), sigmoid(xz + hz)
    n = np.tanh(xn + r * hn)
    gates[...] = np.concatenate([r, z, n], axis=1)
    h_out[...] = (1 - z) * n + z * _f64(h_prev)


def gru_cell_backward(dh, gates, hw, h_prev, dxw, dhw, dh_direct):
    """The chain rule through one step into dxw, dhw and the part of dL/dh_prev through z."""
    r, z, n = _split(gates, 3)
    hn = _split(hw, 3)[2]
    dh = _f64(dh)
    d_n, d_z = dh * (1 - z), dh * (_f64(h_prev) - n)                 # h = (1 - z) n + z h_prev
    d_npre = d_n * (1 - n ** 2)                                      # n = tanh(xn + r hn)
    d_rpre = d_npre * hn * r * (1 - r)
    d_zpre = d_z * z * (1 - z)
    dxw[...] = np.concatenate([d_rpre, d_zpre, d_npre], axis=1)
    dhw[...] = np.concatenate([d_rpre, d_zpre, d_npre * r], axis=1)
    dh_direct[...] = dh * z


def _lstm_steps(x, h0, c0, w_ih, w_hh, b_ih, b_hh):
    """hs, cs, gates of every step, in float64."""
    t_len, batch, _ = x.shape
    hid = w_hh.shape[1]
    h, c = _f64(h0), _f64(c0)
    hs, cs, gates = (np.empty((t_len, batch, k * hid)) for k in (1, 1, 4))
    for t in range(t_len):
        pre = _f64(x[t]) @ _f64(w_ih).T + _f64(b_ih) + h @ _f64(w_hh).T + _f64(b_hh)
        lstm_cell_forward(pre, c, gates[t], cs[t], hs[t])
        h, c = hs[t], cs[t]
    return hs, cs, gates


def lstm_forward(x, h0, c0, w_ih, w_hh, b_ih, b_hh, products=None):
    """The LSTM equations one step at a time; (hs, saved) with saved = the seven inputs, hs,
    cs, gates, as the kernel returns them."""
    hs, cs, gates = (a.astype(x.dtype) for a in _lstm_steps(x, h0, c0, w_ih, w_hh, b_ih, b_hh))
    return hs, (x, h0, c0, w_ih, w_hh, b_ih, b_hh, hs, cs, gates)


def lstm_backward(dhs, dc_last, saved, products=None):
    """Backpropagation through time from the inputs in ``saved`` alone (the forward is
    recomputed in float64), starting from dL/dhs and dL/dc_T = ``dc_last``:
    (dx, dh0, dc0, dw_ih, dw_hh, db_ih, db_hh)."""
    x, h0, c0, w_ih, w_hh, b_ih, b_hh = saved[:7]
    hs, cs, gates = _lstm_steps(x, h0, c0, w_ih, w_hh, b_ih, b_hh)
    t_len, batch, _ = x.shape
    hid = w_hh.shape[1]
    dx = np.empty(x.shape)
    dw_ih, dw_hh, db = np.zeros(w_ih.shape), np.zeros(w_hh.shape), np.zeros(4 * hid)
    dh_next, dc_next = np.zeros((batch, hid)), _f64(dc_last)
    for t in reversed(range(t_len)):
        h_prev = hs[t - 1] if t else _f64(h0)
        c_prev = cs[t - 1] if t else _f64(c0)
        dpre, dc_prev = np.empty((batch, 4 * hid)), np.empty((batch, hid))
        lstm_cell_backward(_f64(dhs[t]) + dh_next, dc_next, gates[t], cs[t], c_prev, dpre, dc_prev)
        dx[t] = dpre @ _f64(w_ih)
        dw_ih += dpre.T @ _f64(x[t])
        dw_hh += dpre.T @ h_prev
        db += dpre.sum(axis=0)
        dh_next, dc_next = dpre @ _f64(w_hh), dc_prev
    return tuple(a.astype(x.dtype) for a in (dx, dh_next, dc_next, dw_ih, dw_hh, db, db))


def _gru_steps(x, h0, w_ih, w_hh, b_ih, b_hh):
    """hs, gates, hw = h W_hh^T + b_hh of every step, in float64."""
    t_len, batch, _ = x.shape
    hid = w_hh.shape[1]
    h = _f64(h0)
    hs, gates, hws = (np.empty((t_len, batch, k * hid)) for k in (1, 3, 3))
    for t in range(t_len):
        xw = _f64(x[t]) @ _f64(w_ih).T + _f64(b_ih)
        hws[t] = h @ _f64(w_hh).T + _f64(b_hh)
        gru_cell_forward(xw, hws[t], h, gates[t], hs[t])
        h = hs[t]
    return hs, gates, hws


def gru_forward(x, h0, w_ih, w_hh, b_ih, b_hh, products=None):
    """The GRU equations one step at a time (PyTorch's placement of b_hn); (hs, saved) with
    saved = the six inputs, hs, gates, hw, as the kernel returns them."""
    hs, gates, hws = (a.astype(x.dtype) for a in _gru_steps(x, h0, w_ih, w_hh, b_ih, b_hh))
    return hs, (x, h0, w_ih, w_hh, b_ih, b_hh, hs, gates, hws)


def gru_backward(dhs, saved, products=None):
    """Backpropagation through time from the inputs in ``saved`` alone:
    (dx, dh0, dw_ih, dw_hh, db_ih, db_hh)."""
    x, h0, w_ih, w_hh, b_ih, b_hh = saved[:6]
    hs, gates, hws = _gru_steps(x, h0, w_ih, w_hh, b_ih, b_hh)
    t_len, batch, _ = x.shape
    hid = w_hh.shape[1]
    dx = np.empty(x.shape)
    dw_ih, dw_hh = np.zeros(w_ih.shape), np.zeros(w_hh.shape)
    db_ih, db_hh = np.zeros(3 * hid), np.zeros(3 * hid)
    dh_next = np.zeros((batch, hid))
    for t in reversed(range(t_len)):
        h_prev = hs[t - 1] if t else _f64(h0)
        dxw, dhw, dh_direct = (np.empty((batch, k * hid)) for k in (3, 3, 1))
        gru_cell_backward(_f64(dhs[t]) + dh_next, gates[t], hws[t], h_prev, dxw, dhw, dh_direct)
        dx[t] = dxw @ _f64(w_ih)
        dw_ih += dxw.T @ _f64(x[t])
        dw_hh += dhw.T @ h_prev
        db_ih += dxw.sum(axis=0)
        db_hh += dhw.sum(axis=0)
        dh_next = dh_direct + dhw @ _f64(w_hh)
    return tuple(a.astype(x.dtype) for a in (dx, dh_next, dw_ih, dw_hh, db_ih, db_hh))


# ----------------------------------------------------------------------- kernels/optim.py
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


def sgd_step_kept(w, g, buf, kept, lr, momentum, dampening, weight_decay, nesterov, first):
    """``sgd_step`` without a mask on the entries ``kept`` (flat indices); the others are
    not touched. In place on w, buf."""
    wk, bk = w[kept], buf[kept]
    sgd_step(wk, g[kept], bk, np.zeros(0), lr, momentum, dampening, weight_decay, nesterov,
             first)
    w[kept], buf[kept] = wk, bk


def adam_step_kept(w, g, m, v, kept, lr, beta1, beta2, eps, weight_decay, step):
    """``adam_step`` without a mask on the entries ``kept`` (flat indices); the others are
    not touched. In place on w, m, v."""
    wk, mk, vk = w[kept], m[kept], v[kept]
    adam_step(wk, g[kept], mk, vk, np.zeros(0), lr, beta1, beta2, eps, weight_decay, step)
    w[kept], m[kept], v[kept] = wk, mk, vk


# ---------------------------------------------------------------------- kernels/sparse.py
def pattern_from_mask(mask):
    """(row_ptr, row_cols, col_ptr, col_rows, col_pos) by walking the mask: row by row for
    the CSR order, column by column for the CSC order, col_pos pointing into the CSR order;
    a mask of more than two dimensions is read with one row per output."""
    mask = np.asarray(mask)
    mask = mask.reshape(mask.shape[0], -1)
    out_features, in_features = mask.shape
    row_ptr, row_cols, position = [0], [], {}
    for o in range(out_features):
        for i in range(in_features):
            if mask[o, i]:
                position[o, i] = len(row_cols)
                row_cols.append(i)
        row_ptr.append(len(row_cols))
    col_ptr, col_rows, col_pos = [0], [], []
    for i in range(in_features):
        for o in range(out_features):
            if mask[o, i]:
                col_rows.append(o)
                col_pos.append(position[o, i])
        col_ptr.append(len(col_rows))
    return tuple(np.array(a, dtype=np.int64) for a in (row_ptr, row_cols, col_ptr, col_rows,
                                                        col_pos))


def _rows_of(ptr):
    """The row (or column) of every stored entry of a CSR (or CSC) pointer array."""
    return np.repeat(np.arange(len(ptr) - 1), np.diff(ptr))


def gather(weight, row_ptr, row_cols):
    """The kept weights in CSR order."""
    return weight[_rows_of(row_ptr), row_cols]


def forward_t(x_t, values, row_ptr, row_cols):
    """y^T = W x^T with W the dense matrix holding ``values`` at the pattern."""
    dense = np.zeros((len(row_ptr) - 1, x_t.shape[0]))
    dense[_rows_of(row_ptr), row_cols] = values
    return (dense @ _f64(x_t)).astype(x_t.dtype)


def input_grad_t(g_t, values, col_ptr, col_rows, col_pos):
    """dx^T = W^T g^T with W dense, built from the CSC side of the pattern."""
    dense = np.zeros((g_t.shape[0], len(col_ptr) - 1))
    dense[col_rows, _rows_of(col_ptr)] = values[col_pos]
    return (dense.T @ _f64(g_t)).astype(g_t.dtype)


def weight_grad(g_t, x_t, row_ptr, row_cols, x_rows, out_features, in_features):
    """The dense weight gradient g^T x, kept only at the pattern (0 elsewhere), with x^T's
    rows placed back at their columns first."""
    x_full = np.zeros((in_features, x_t.shape[1]))
    x_full[row_cols] = _f64(x_t)[x_rows]
    kept = np.zeros((out_features, in_features), dtype=bool)
    kept[_rows_of(row_ptr), row_cols] = True
    return np.where(kept, _f64(g_t) @ x_full.T, 0).astype(g_t.dtype)


def compact_columns(row_cols, in_features):
    """The used columns by a set, and each connection's column looked up in their list."""
    used = np.array(sorted(set(int(i) for i in row_cols)), dtype=np.int64)
    where = {int(c): k for k, c in enumerate(used)}
    return used, np.array([where[int(i)] for i in row_cols], dtype=np.int64)


def _dense_weight(values, row_ptr, row_cols, shape):
    dense = np.zeros((len(row_ptr) - 1, int(np.prod(shape[1:]))), dtype=values.dtype)
    dense[_rows_of(row_ptr), row_cols] = values
    return dense.reshape(shape)


def sparse_conv2d_forward(x, values, row_ptr, row_cols, kh, kw, stride, padding):
    """The dense convolution of the weight that holds ``values`` at the pattern."""
    weight = _dense_weight(values, row_ptr, row_cols,
                           (len(row_ptr) - 1, x.shape[1], kh, kw))
    return conv2d_forward(x, weight, stride, padding)


def sparse_conv2d_input_grad(grad_out, values, col_ptr, col_rows, col_pos, input_shape,
                             kh, kw, stride, padding):
    """The dense input gradient of the weight built from the pattern's CSC side."""
    oc, c = grad_out.shape[1], input_shape[1]
    dense = np.zeros((oc, c * kh * kw), dtype=values.dtype)
    dense[col_rows, _rows_of(col_ptr)] = values[col_pos]
    return conv2d_input_grad(grad_out, dense.reshape(oc, c, kh, kw), input_shape, stride,
                             padding)


def sparse_conv2d_weight_grad(grad_out, cols, row_ptr, row_cols, weight_shape):
    """The dense weight gradient, kept only at the pattern (0 elsewhere)."""
    oc = weight_shape[0]
    kept = np.zeros((oc, cols.shape[0]), dtype=bool)
    kept[_rows_of(row_ptr), row_cols] = True
    return np.where(kept.reshape(weight_shape),
                    conv2d_weight_grad(grad_out, cols, weight_shape), 0).astype(
        _product_dtype(grad_out, cols))
