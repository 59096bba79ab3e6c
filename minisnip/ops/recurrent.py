"""LSTM and GRU over a whole sequence as single Functions (kernels/recurrent.py)."""
from __future__ import annotations

import numpy as np

from ..autograd import Function
from ..kernels import recurrent as kernel
from ..tensor import raw
from .linalg import products


class LSTM(Function):
    """hs (T, B, H) = LSTM(x (T, B, D), h0, c0, W_ih, W_hh, b_ih, b_hh):
    kernels/recurrent.py lstm_forward / lstm_backward."""

    @staticmethod
    def forward(ctx, x, h0, c0, w_ih, w_hh, b_ih, b_hh):
        hs, ctx.saved_state = kernel.lstm_forward(x, h0, c0, w_ih, w_hh, b_ih, b_hh,
                                                   products())
        return hs

    @staticmethod
    def backward(ctx, grad):
        grads = kernel.lstm_backward(np.ascontiguousarray(grad), ctx.saved_state, products())
        return tuple(g if need else None for g, need in zip(grads, ctx.needs_input_grad))


class GRU(Function):
    """hs (T, B, H) = GRU(x (T, B, D), h0, W_ih, W_hh, b_ih, b_hh):
    kernels/recurrent.py gru_forward / gru_backward."""

    @staticmethod
    def forward(ctx, x, h0, w_ih, w_hh, b_ih, b_hh):
        hs, ctx.saved_state = kernel.gru_forward(x, h0, w_ih, w_hh, b_ih, b_hh, products())
        return hs

    @staticmethod
    def backward(ctx, grad):
        grads = kernel.gru_backward(np.ascontiguousarray(grad), ctx.saved_state, products())
        return tuple(g if need else None for g, need in zip(grads, ctx.needs_input_grad))


# ------------------------------------------------------------ the functions: checks, then apply
def _check(op, gates, x, h0, w_ih, w_hh, b_ih, b_hh, c0=None):
    sx, sw = raw(x).shape, raw(w_ih).shape
    if len(sx) != 3:
        raise ValueError(f"{op}: expected a time-major sequence (T, B, D), got shape {sx}")
    hid = raw(w_hh).shape[-1]
    want = {"w_ih": (gates * hid, sx[2]), "w_hh": (gates * hid, hid), "b_ih": (gates * hid,),
            "b_hh": (gates * hid,), "h0": (sx[1], hid)}
    given = {"w_ih": sw, "w_hh": raw(w_hh).shape, "b_ih": raw(b_ih).shape,
             "b_hh": raw(b_hh).shape, "h0": raw(h0).shape}
    if c0 is not None:
        want["c0"], given["c0"] = (sx[1], hid), raw(c0).shape
    for name in want:
        if tuple(given[name]) != want[name]:
            raise ValueError(f"{op}: {name} has shape {tuple(given[name])}, expected {want[name]} "
                             f"for input {sx} and hidden size {hid} ({gates} gates)")


def lstm(x, h0, c0, w_ih, w_hh, b_ih, b_hh):
    """Hidden states (T, B, H) of an LSTM over x (T, B, D); PyTorch's gate order i, f, g, o."""
    _check("lstm", 4, x, h0, w_ih, w_hh, b_ih, b_hh, c0)
    return LSTM.apply(x, h0, c0, w_ih, w_hh, b_ih, b_hh)


def gru(x, h0, w_ih, w_hh, b_ih, b_hh):
    """Hidden states (T, B, H) of a GRU over x (T, B, D); PyTorch's gate order r, z, n."""
    _check("gru", 3, x, h0, w_ih, w_hh, b_ih, b_hh)
    return GRU.apply(x, h0, w_ih, w_hh, b_ih, b_hh)
