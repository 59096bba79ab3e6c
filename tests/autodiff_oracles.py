"""Oracles that use the engine itself: the hand-written backward through time of the LSTM/GRU
kernels against the same equations written with minisnip's elementary ops and differentiated
by the graph walk (each op is gradient-checked in test_gradcheck.py). They live in the tests,
not in ``minisnip/kernels/reference.py``: kernels and their oracles know nothing of Tensors."""
import numpy as np

from minisnip import Tensor
from minisnip.ops import stack


def recurrent_backward_by_autodiff(kind, dhs, *inputs, dc_last=None):
    """Gradients of sum(hs * dhs) (+ sum(c_T * dc_last) for the LSTM: a loss on the last cell
    state) for every input of ``kernels.recurrent.{kind}_forward``, in the kernel's order
    (x, h0, [c0,] w_ih, w_hh, b_ih, b_hh), computed in float64."""
    ts = [Tensor(np.asarray(a, dtype=np.float64), requires_grad=True) for a in inputs]
    if kind == "lstm":
        x, h, c, w_ih, w_hh, b_ih, b_hh = ts
    else:
        x, h, w_ih, w_hh, b_ih, b_hh = ts
    hid = w_hh.shape[1]
    outs = []
    for t in range(x.shape[0]):
        xt = x[t]
        if kind == "lstm":
            pre = xt @ w_ih.T + b_ih + h @ w_hh.T + b_hh
            i, f = pre[:, :hid].sigmoid(), pre[:, hid:2 * hid].sigmoid()
            g, o = pre[:, 2 * hid:3 * hid].tanh(), pre[:, 3 * hid:].sigmoid()
            c = f * c + i * g
            h = o * c.tanh()
        else:
            xw, hw = xt @ w_ih.T + b_ih, h @ w_hh.T + b_hh
            r = (xw[:, :hid] + hw[:, :hid]).sigmoid()
            z = (xw[:, hid:2 * hid] + hw[:, hid:2 * hid]).sigmoid()
            n = (xw[:, 2 * hid:] + r * hw[:, 2 * hid:]).tanh()
            h = (1 - z) * n + z * h
        outs.append(h)
    loss = (stack(outs, 0) * Tensor(np.asarray(dhs, np.float64))).sum()
    if dc_last is not None:
        loss = loss + (c * Tensor(np.asarray(dc_last, np.float64))).sum()
    loss.backward()
    return tuple(t.grad for t in ts)
