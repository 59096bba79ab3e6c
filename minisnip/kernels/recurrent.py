"""LSTM and GRU over a whole sequence, forward and backward through time (PyTorch's equations
and gate order, so weights can be exchanged with PyTorch). Sequences are time-major (T, B, D).

LSTM (gates stacked i, f, g, o in W_ih (4H, D), W_hh (4H, H)):
    i = s(W_ii x + b_ii + W_hi h + b_hi)      f = s(W_if x + b_if + W_hf h + b_hf)
    g = tanh(W_ig x + b_ig + W_hg h + b_hg)   o = s(W_io x + b_io + W_ho h + b_ho)
    c' = f * c + i * g                        h' = o * tanh(c')
GRU (gates stacked r, z, n in W_ih (3H, D), W_hh (3H, H); note where b_hn sits):
    r = s(W_ir x + b_ir + W_hr h + b_hr)      z = s(W_iz x + b_iz + W_hz h + b_hz)
    n = tanh(W_in x + b_in + r * (W_hn h + b_hn))
    h' = (1 - z) * n + z * h

Performance contract
--------------------
* The input projections of all T steps are ONE product (T*B, D) @ (D, G*H) before the loop;
  in the backward the weight gradients and the input gradient are ONE product each after it.
* Per step: one (B, H) @ (H, G*H) product with W_hh^T laid out ONCE for the whole sequence
  (``matmul.RightOperand``: row-contiguous for ``matmul.dot_tiles`` when H >= 128, packed
  strips for the rank-1 ``matmul.tiles`` below), then one fused kernel for all the gate arithmetic
  of the step (nonlinearities, cell update, and in the backward every gate's local derivative),
  parallel over the batch rows from ``CELL_MIN_UNITS`` = 2^12 hidden units (B*H, measured),
  serial below. The forward cells are NumPy ufuncs on whole blocks instead (SIMD exp and
  tanh: 6x faster than a compiled loop calling scalar libm, see ``lstm_cell_forward``). So a
  step is a product and one cell call instead of dozens of ops.
* The products run on ``products`` (default ``matmul.NUMBA``, the Numba kernels;
  ``ops/recurrent.py`` passes the backend that ``ops/linalg.py`` chose).
* Deterministic: every output element is computed by one thread in a fixed order.
* O(T B G H (D + H)) flops; memory O(T B G H) for what the backward needs.
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange

from . import threads
from .activations import sigmoid, sigmoid_array
from .matmul import NUMBA

# Hidden units of a step (B*H) below which a cell kernel runs on one thread: two threads
# first gained 1.9x at 2^12 units of the LSTM cell (180 us on one thread;
# benchmarks/bench_thresholds.py). LSTM-s (batch 100, H 100) steps serial.
CELL_MIN_UNITS = 1 << 12


# ------------------------------------------------------------------------------- LSTM
def lstm_cell_forward(pre, c_prev, gates, c_out, h_out):
    """One step: pre (B, 4H) pre-activations -> gates (B, 4H) = [i, f, g, o] activated,
    c_out = f * c_prev + i * g, h_out = o * tanh(c_out).

    NumPy's ufuncs on the whole (B, 4H) block, not a compiled loop: the five nonlinearities
    per hidden unit are the work, and NumPy computes exp and tanh with SIMD in float32, where
    a Numba loop calls the scalar libm functions (measured on LSTM-s's step, batch 100, H 128,
    one thread: 165 us against 970 us for the fused loop). O(B H), a few passes."""
    hid = pre.shape[1] // 4
    gates[...] = sigmoid_array(pre)                    # i, f, o (g's block is replaced next)
    np.tanh(pre[:, 2 * hid:3 * hid], out=gates[:, 2 * hid:3 * hid])
    np.multiply(gates[:, hid:2 * hid], c_prev, out=c_out)
    c_out += gates[:, :hid] * gates[:, 2 * hid:3 * hid]
    np.tanh(c_out, out=h_out)
    h_out *= gates[:, 3 * hid:]


@njit(cache=True, parallel=True)
def lstm_cell_backward(dh, dc_next, gates, c, c_prev, dpre, dc_prev):
    """Backward of one step: from dL/dh_t (dh) and dL/dc_t from the future (dc_next) to
    dL/dpre (B, 4H) and dL/dc_{t-1}. Parallel over batch rows."""
    b, h4 = gates.shape
    hid = h4 // 4
    previous = threads.serial_below(b * hid, CELL_MIN_UNITS)
    for r in prange(b):
        for j in range(hid):
            i = gates[r, j]
            f = gates[r, hid + j]
            g = gates[r, 2 * hid + j]
            o = gates[r, 3 * hid + j]
            tc = np.tanh(c[r, j])
            d_h = dh[r, j]
            dc = d_h * o * (1.0 - tc * tc) + dc_next[r, j]
            dpre[r, j] = dc * g * i * (1.0 - i)
            dpre[r, hid + j] = dc * c_prev[r, j] * f * (1.0 - f)
            dpre[r, 2 * hid + j] = dc * i * (1.0 - g * g)
            dpre[r, 3 * hid + j] = d_h * tc * o * (1.0 - o)
            dc_prev[r, j] = dc * f
    threads.restore(previous)


def lstm_forward(x, h0, c0, w_ih, w_hh, b_ih, b_hh, products=NUMBA):
    """Returns ``(hs (T, B, H), saved)``; ``saved`` is what ``lstm_backward`` needs: the seven
    inputs in this order, then hs, the cell states cs (T, B, H) and the gates (T, B, 4H)."""
    t_len, batch, d = x.shape
    hid = w_hh.shape[1]
    dtype = x.dtype
    xw = products.matmul(x.reshape(t_len * batch, d), w_ih.T).reshape(t_len, batch, 4 * hid)
    xw += b_ih + b_hh
    w_hh_t = products.right_operand(w_hh.T)
    hs = np.empty((t_len, batch, hid), dtype)
    cs = np.empty((t_len, batch, hid), dtype)
    gates = np.empty((t_len, batch, 4 * hid), dtype)
    h, c = np.ascontiguousarray(h0, dtype), np.ascontiguousarray(c0, dtype)
    for t in range(t_len):
        pre = xw[t] + w_hh_t.left_multiply(h)
        lstm_cell_forward(pre, c, gates[t], cs[t], hs[t])
        h, c = hs[t], cs[t]
    return hs, (x, h0, c0, w_ih, w_hh, b_ih, b_hh, hs, cs, gates)


def lstm_backward(dhs, dc_last, saved, products=NUMBA):
    """Gradients (dx, dh0, dc0, dw_ih, dw_hh, db_ih, db_hh) from dL/dhs (T, B, H) and dL/dc_T
    (B, H), the gradient reaching the last cell state directly (a loss on PyTorch's c_n);
    from step T-1 back, dL/dc_t also flows back from step t+1."""
    x, h0, c0, w_ih, w_hh, _, _, hs, cs, gates = saved
    t_len, batch, d = x.shape
    hid = w_hh.shape[1]
    dtype = x.dtype
    w_hh_right = products.right_operand(w_hh)
    dpre = np.empty((t_len, batch, 4 * hid), dtype)
    dh_next = np.zeros((batch, hid), dtype)
    dc_next = np.array(dc_last, dtype=dtype)   # a copy: the loop writes into this buffer
    dc_prev = np.empty((batch, hid), dtype)
    for t in range(t_len - 1, -1, -1):
        dh = dhs[t] + dh_next
        c_prev = cs[t - 1] if t > 0 else np.ascontiguousarray(c0, dtype)
        lstm_cell_backward(dh, dc_next, gates[t], cs[t], c_prev, dpre[t], dc_prev)
        dh_next = w_hh_right.left_multiply(dpre[t])
        dc_next, dc_prev = dc_prev, dc_next
    flat = dpre.reshape(t_len * batch, 4 * hid)
    h_prev = np.concatenate([np.asarray(h0, dtype)[None], hs[:-1]]).reshape(t_len * batch, hid)
    dw_ih = products.matmul(flat.T, x.reshape(t_len * batch, d))
    dw_hh = products.matmul(flat.T, h_prev)
    db = flat.sum(axis=0)
    dx = products.matmul(flat, w_ih).reshape(t_len, batch, d)
    return dx, dh_next, dc_next, dw_ih, dw_hh, db, db.copy()


# -------------------------------------------------------------------------------- GRU
def gru_cell_forward(xw, hw, h_prev, gates, h_out):
    """One step: xw = x W_ih^T + b_ih and hw = h W_hh^T + b_hh, both (B, 3H) ->
    gates (B, 3H) = [r, z, n] activated, h_out = (1 - z) * n + z * h_prev.

    NumPy's ufuncs on whole blocks, as ``lstm_cell_forward`` (SIMD exp and tanh)."""
    hid = xw.shape[1] // 3
    gates[:, :2 * hid] = sigmoid_array(xw[:, :2 * hid] + hw[:, :2 * hid])      # r, z
    n = gates[:, 2 * hid:]
    np.multiply(gates[:, :hid], hw[:, 2 * hid:], out=n)
    n += xw[:, 2 * hid:]
    np.tanh(n, out=n)
    z = gates[:, hid:2 * hid]
    np.multiply(z, h_prev - n, out=h_out)              # (1 - z) n + z h = n + z (h - n)
    h_out += n


@njit(cache=True, parallel=True)
def gru_cell_backward(dh, gates, hw, h_prev, dxw, dhw, dh_direct):
    """Backward of one step: dL/dh_t -> dL/dxw (B, 3H), dL/dhw (B, 3H), and the part of
    dL/dh_{t-1} that flows through z * h (the rest flows through dhw @ W_hh)."""
    b, h3 = gates.shape
    hid = h3 // 3
    previous = threads.serial_below(b * hid, CELL_MIN_UNITS)
    for row in prange(b):
        for j in range(hid):
            r = gates[row, j]
            z = gates[row, hid + j]
            n = gates[row, 2 * hid + j]
            d = dh[row, j]
            dn = d * (1.0 - z) * (1.0 - n * n)
            dz = d * (h_prev[row, j] - n) * z * (1.0 - z)
            dr = dn * hw[row, 2 * hid + j] * r * (1.0 - r)
            dxw[row, j] = dr
            dxw[row, hid + j] = dz
            dxw[row, 2 * hid + j] = dn
            dhw[row, j] = dr
            dhw[row, hid + j] = dz
            dhw[row, 2 * hid + j] = dn * r
            dh_direct[row, j] = d * z
    threads.restore(previous)


def gru_forward(x, h0, w_ih, w_hh, b_ih, b_hh, products=NUMBA):
    """Returns ``(hs (T, B, H), saved)``; ``saved`` is what ``gru_backward`` needs: the six
    inputs in this order, then hs, the gates (T, B, 3H) and hw = h W_hh^T + b_hh (T, B, 3H)."""
    t_len, batch, d = x.shape
    hid = w_hh.shape[1]
    dtype = x.dtype
    xw = products.matmul(x.reshape(t_len * batch, d), w_ih.T).reshape(t_len, batch, 3 * hid)
    xw += b_ih
    w_hh_t = products.right_operand(w_hh.T)
    hs = np.empty((t_len, batch, hid), dtype)
    gates = np.empty((t_len, batch, 3 * hid), dtype)
    hws = np.empty((t_len, batch, 3 * hid), dtype)
    h = np.ascontiguousarray(h0, dtype)
    for t in range(t_len):
        hws[t] = w_hh_t.left_multiply(h) + b_hh
        gru_cell_forward(xw[t], hws[t], h, gates[t], hs[t])
        h = hs[t]
    return hs, (x, h0, w_ih, w_hh, b_ih, b_hh, hs, gates, hws)


def gru_backward(dhs, saved, products=NUMBA):
    """Gradients (dx, dh0, dw_ih, dw_hh, db_ih, db_hh) from dL/dhs (T, B, H)."""
    x, h0, w_ih, w_hh, _, _, hs, gates, hws = saved
    t_len, batch, d = x.shape
    hid = w_hh.shape[1]
    dtype = x.dtype
    w_hh_right = products.right_operand(w_hh)
    dxw = np.empty((t_len, batch, 3 * hid), dtype)
    dhw = np.empty((t_len, batch, 3 * hid), dtype)
    dh_direct = np.empty((batch, hid), dtype)
    dh_next = np.zeros((batch, hid), dtype)
    h0 = np.ascontiguousarray(h0, dtype)
    for t in range(t_len - 1, -1, -1):
        dh = dhs[t] + dh_next
        h_prev = hs[t - 1] if t > 0 else h0
        gru_cell_backward(dh, gates[t], hws[t], h_prev, dxw[t], dhw[t], dh_direct)
        dh_next = dh_direct + w_hh_right.left_multiply(dhw[t])
    fx = dxw.reshape(t_len * batch, 3 * hid)
    fh = dhw.reshape(t_len * batch, 3 * hid)
    h_prev_all = np.concatenate([h0[None], hs[:-1]]).reshape(t_len * batch, hid)
    dw_ih = products.matmul(fx.T, x.reshape(t_len * batch, d))
    dw_hh = products.matmul(fh.T, h_prev_all)
    dx = products.matmul(fx, w_ih).reshape(t_len, batch, d)
    return dx, dh_next, dw_ih, dw_hh, fx.sum(axis=0), fh.sum(axis=0)
