"""Recurrent layers with SNIP's masks: one mask on W_ih and one on W_hh, shared by every time
step, so a connection's sensitivity g = dL/dc sums its effect over the whole sequence."""
from __future__ import annotations

import numpy as np

from .. import functional as F
from ..tensor import Tensor
from .module import Module, Parameter


class _Recurrent(Module):
    _gates = 1
    _gate_names: tuple = ()

    def __init__(self, input_size, hidden_size, batch_first=True, dtype=np.float32):
        super().__init__()
        if input_size < 1 or hidden_size < 1:
            raise ValueError(f"{type(self).__name__}: sizes must be >= 1, got {input_size}, "
                             f"{hidden_size}")
        g = self._gates
        self.input_size, self.hidden_size, self.batch_first = input_size, hidden_size, batch_first
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
        if x.ndim != 3 or x.shape[-1] != self.input_size:
            layout = "(B, T, D)" if self.batch_first else "(T, B, D)"
            raise ValueError(f"{type(self).__name__}({self.input_size}, {self.hidden_size}): "
                             f"expected input {layout} with D = {self.input_size}, got "
                             f"{tuple(x.shape)}")
        return x.permute(1, 0, 2) if self.batch_first else x

    def _zeros(self, batch):
        return Tensor(np.zeros((batch, self.hidden_size), self.weight_hh_l0.dtype))

    def _output(self, hs):
        """(output, h_n) as PyTorch: output (B, T, H) if batch_first, h_n (1, B, H)."""
        out = hs.permute(1, 0, 2) if self.batch_first else hs
        return out, hs[-1].reshape(1, hs.shape[1], self.hidden_size)

    def extra_repr(self):
        return f"{self.input_size}, {self.hidden_size}, batch_first={self.batch_first}"


class LSTM(_Recurrent):
    """PyTorch's single-layer LSTM (gates i, f, g, o) computing with c_ih * W_ih, c_hh * W_hh.

    ``forward(x, hx=None)`` returns ``(output, h_n)``; unlike PyTorch the final cell state is
    not returned (it is not needed by the paper's models)."""

    _gates = 4
    _gate_names = ("i", "f", "g", "o")

    def forward(self, x, hx=None):
        xs = self._time_major(x)
        batch = xs.shape[1]
        h0, c0 = hx if hx is not None else (self._zeros(batch), self._zeros(batch))
        hs = F.lstm(xs, h0, c0, self.c_ih * self.weight_ih_l0, self.c_hh * self.weight_hh_l0,
                    self.bias_ih_l0, self.bias_hh_l0)
        return self._output(hs)


class GRU(_Recurrent):
    """PyTorch's single-layer GRU (gates r, z, n) computing with c_ih * W_ih, c_hh * W_hh."""

    _gates = 3
    _gate_names = ("r", "z", "n")

    def forward(self, x, hx=None):
        xs = self._time_major(x)
        h0 = hx if hx is not None else self._zeros(xs.shape[1])
        hs = F.gru(xs, h0, self.c_ih * self.weight_ih_l0, self.c_hh * self.weight_hh_l0,
                   self.bias_ih_l0, self.bias_hh_l0)
        return self._output(hs)
