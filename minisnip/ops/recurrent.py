"""LSTM and GRU over a whole sequence as single Functions (kernels/recurrent.py)."""
from __future__ import annotations

import numpy as np

from ..autograd import Function
from ..kernels import recurrent as kernel
from . import checks
from .linalg import products


class LSTM(Function):
    """[h_1 .. h_T, c_T] (T + 1, B, H) = LSTM(x (T, B, D), h0, c0, W_ih, W_hh, b_ih, b_hh):
    kernels/recurrent.py lstm_forward / lstm_backward.

    A Function has one output: the hidden sequence with the last cell state appended, so that
    a loss on c_T (PyTorch's ``c_n``) reaches the backward, which starts from dL/dc_T.
    ``lstm`` slices the two apart."""

    @staticmethod
    def forward(ctx, x, h0, c0, w_ih, w_hh, b_ih, b_hh):
        hs, ctx.saved_state = kernel.lstm_forward(x, h0, c0, w_ih, w_hh, b_ih, b_hh,
                                                   products())
        cs = ctx.saved_state[8]
        return np.concatenate([hs, cs[-1:]], axis=0)

    @staticmethod
    def backward(ctx, grad):
        grad = np.ascontiguousarray(grad)
        grads = kernel.lstm_backward(grad[:-1], grad[-1], ctx.saved_state, products())
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
    arrays = {"input": x, "h0": h0, "w_ih": w_ih, "w_hh": w_hh, "b_ih": b_ih, "b_hh": b_hh}
    if c0 is not None or op == "lstm":
        arrays["c0"] = c0
    given = {name: checks.tensor_argument(a, op, name).shape for name, a in arrays.items()}
    sx, sw = given["input"], given["w_hh"]
    if len(sx) != 3:
        raise ValueError(f"{op}: expected a time-major sequence (T, B, D), got shape {sx}")
    if len(sw) != 2 or sw[0] != gates * sw[1]:
        raise ValueError(f"{op}: w_hh has shape {sw}, expected ({gates} * H, H) ({gates} gates "
                         f"of hidden size H)")
    hid = sw[1]
    want = {"w_ih": (gates * hid, sx[2]), "b_ih": (gates * hid,), "b_hh": (gates * hid,),
            "h0": (sx[1], hid)}
    if "c0" in given:
        want["c0"] = (sx[1], hid)
    for name in want:
        if tuple(given[name]) != want[name]:
            raise ValueError(f"{op}: {name} has shape {tuple(given[name])}, expected {want[name]} "
                             f"for input {sx} and hidden size {hid} ({gates} gates)")
    if 0 in sx or hid == 0:
        raise ValueError(f"{op}: input {sx} and hidden size {hid}: every size must be >= 1")


def lstm(x, h0, c0, w_ih, w_hh, b_ih, b_hh):
    """An LSTM over x (T, B, D) from the state h0, c0 (B, H); PyTorch's gate order i, f, g, o.
    Returns ``(hs, c_n)``: the hidden states (T, B, H) and the last cell state (B, H), both
    differentiable. (PyTorch has no functional LSTM; ``nn.LSTM`` is shaped like its.)"""
    _check("lstm", 4, x, h0, w_ih, w_hh, b_ih, b_hh, c0)
    out = LSTM.apply(x, h0, c0, w_ih, w_hh, b_ih, b_hh)
    return out[:-1], out[-1]


def gru(x, h0, w_ih, w_hh, b_ih, b_hh):
    """Hidden states (T, B, H) of a GRU over x (T, B, D) from h0 (B, H); PyTorch's gate order
    r, z, n. The last one, ``hs[-1]``, is PyTorch's h_n."""
    _check("gru", 3, x, h0, w_ih, w_hh, b_ih, b_hh)
    return GRU.apply(x, h0, w_ih, w_hh, b_ih, b_hh)
