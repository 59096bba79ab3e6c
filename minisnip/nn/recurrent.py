"""Recurrent layers with SNIP's masks: one mask on W_ih and one on W_hh, shared by every time
step, so a connection's sensitivity g = dL/dc sums its effect over the whole sequence.

Shaped like PyTorch's ``nn.LSTM`` / ``nn.GRU``: input (T, B, D) unless ``batch_first``
(then (B, T, D)); the state ``hx`` and the returned ``h_n`` / ``c_n`` are (num_layers = 1, B, H),
so the returned state can be fed back. ``LSTM`` returns ``(output, (h_n, c_n))``, ``GRU``
``(output, h_n)``. What minisnip does not implement (several layers, no bias, dropout,
bidirectional, projections, unbatched 2-D input) is refused, naming it.
"""
from __future__ import annotations

import numpy as np

from .. import functional as F
from ..ops import checks
from ..tensor import Tensor
from .module import Module, Parameter


def _refuse_unless_default(layer: str, **options):
    """``options``: name=(value, PyTorch's default); anything but the default is refused."""
    for name, (value, default) in options.items():
        if default is None or isinstance(default, bool):
            same = value is default
        elif isinstance(default, int):      # num_layers, proj_size: an int, not 1.0
            same = (isinstance(value, (int, np.integer)) and not isinstance(value, bool)
                    and value == default)
        else:                               # dropout: a number
            same = (isinstance(value, (int, float, np.integer, np.floating))
                    and not isinstance(value, bool) and value == default)
        if not same:
            raise ValueError(f"{layer}: {name}={value!r} is not implemented in minisnip (only "
                             f"PyTorch's default {name}={default!r})")


class _Recurrent(Module):
    _gates = 1
    _gate_names: tuple = ()

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, dtype=np.float32, **more):
        super().__init__()
        name = type(self).__name__
        input_size = checks.integer(input_size, name, "input_size", minimum=1)
        hidden_size = checks.integer(hidden_size, name, "hidden_size", minimum=1)
        _refuse_unless_default(name, num_layers=(num_layers, 1), bias=(bias, True),
                               dropout=(dropout, 0.0), bidirectional=(bidirectional, False),
                               **more)
        if not isinstance(batch_first, (bool, np.bool_)):
            raise TypeError(f"{name}: batch_first must be a bool, got "
                            f"{checks.describe(batch_first)}")
        if np.dtype(dtype) not in checks.FLOATS:
            raise TypeError(f"{name}: dtype must be float32 or float64, got {np.dtype(dtype)}")
        g = self._gates
        self.input_size, self.hidden_size = input_size, hidden_size
        self.num_layers, self.batch_first = 1, bool(batch_first)
        self.weight_ih_l0 = Parameter(np.zeros((g * hidden_size, input_size), dtype))
        self.weight_hh_l0 = Parameter(np.zeros((g * hidden_size, hidden_size), dtype))
        self.bias_ih_l0 = Parameter(np.zeros(g * hidden_size, dtype))
        self.bias_hh_l0 = Parameter(np.zeros(g * hidden_size, dtype))
        self.register_mask("weight_ih_l0")
        self.register_mask("weight_hh_l0")

    @property
    def c_ih(self) -> Tensor:
        return self.weight_ih_l0_mask

    @property
    def c_hh(self) -> Tensor:
        return self.weight_hh_l0_mask

    def _time_major(self, x):
        """The input as (T, B, D), checked (a Tensor or an array, 3-D, D = input_size)."""
        name = type(self).__name__
        shape = checks.tensor_argument(x, name, "input").shape
        if len(shape) != 3 or shape[-1] != self.input_size:
            layout = "(B, T, D)" if self.batch_first else "(T, B, D)"
            hint = (": an unbatched (T, D) input is not supported, add the batch axis"
                    if len(shape) == 2 else "")
            raise ValueError(f"{name}({self.input_size}, {self.hidden_size}): expected input "
                             f"{layout} with D = {self.input_size}, got {tuple(shape)}{hint}")
        x = x if isinstance(x, Tensor) else Tensor(x)
        return x.permute(1, 0, 2) if self.batch_first else x

    def _state(self, state, what, batch):
        """An initial state as PyTorch takes it, (num_layers = 1, B, H), as the (B, H) the
        functions want; zeros if not given."""
        want = (1, batch, self.hidden_size)
        if state is None:
            return Tensor(np.zeros(want[1:], self.weight_hh_l0.dtype))
        name = type(self).__name__
        shape = checks.tensor_argument(state, name, what).shape
        if tuple(shape) != want:
            hint = (f" (add the layer axis: {what}.reshape{want})"
                    if tuple(shape) == want[1:] else "")
            raise ValueError(f"{name}: {what} has shape {tuple(shape)}, expected (num_layers, "
                             f"B, H) = {want} as in PyTorch{hint}")
        state = state if isinstance(state, Tensor) else Tensor(state)
        return state.reshape(batch, self.hidden_size)

    def _output(self, hs):
        """output (B, T, H) if batch_first else (T, B, H), and h_n (1, B, H)."""
        out = hs.permute(1, 0, 2) if self.batch_first else hs
        return out, hs[-1].reshape(1, hs.shape[1], self.hidden_size)

    def extra_repr(self):
        return f"{self.input_size}, {self.hidden_size}" + (
            f", batch_first={self.batch_first}" if self.batch_first else "")


class LSTM(_Recurrent):
    """PyTorch's single-layer LSTM (gates i, f, g, o) computing with c_ih * W_ih, c_hh * W_hh.

    ``forward(x, hx=None)`` with ``hx = (h_0, c_0)``, each (1, B, H), returns
    ``(output, (h_n, c_n))``, h_n and c_n (1, B, H); gradients flow through both."""

    _gates = 4
    _gate_names = ("i", "f", "g", "o")

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, proj_size=0, dtype=np.float32):
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, dtype, proj_size=(proj_size, 0))

    def forward(self, x, hx=None):
        xs = self._time_major(x)
        batch = xs.shape[1]
        if hx is not None and not (isinstance(hx, (tuple, list)) and len(hx) == 2):
            raise TypeError(f"LSTM: hx must be a pair (h_0, c_0), each (1, B, H), got "
                            f"{checks.describe(hx)}")
        h0, c0 = hx if hx is not None else (None, None)
        hs, c_n = F.lstm(xs, self._state(h0, "h_0", batch), self._state(c0, "c_0", batch),
                         self.c_ih * self.weight_ih_l0, self.c_hh * self.weight_hh_l0,
                         self.bias_ih_l0, self.bias_hh_l0)
        output, h_n = self._output(hs)
        return output, (h_n, c_n.reshape(1, batch, self.hidden_size))


class GRU(_Recurrent):
    """PyTorch's single-layer GRU (gates r, z, n) computing with c_ih * W_ih, c_hh * W_hh.

    ``forward(x, hx=None)`` with ``hx`` (1, B, H) returns ``(output, h_n)``, h_n (1, B, H)."""

    _gates = 3
    _gate_names = ("r", "z", "n")

    def forward(self, x, hx=None):
        xs = self._time_major(x)
        hs = F.gru(xs, self._state(hx, "hx", xs.shape[1]), self.c_ih * self.weight_ih_l0,
                   self.c_hh * self.weight_hh_l0, self.bias_ih_l0, self.bias_hh_l0)
        return self._output(hs)
