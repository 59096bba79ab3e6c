"""Basic layers: Linear (prunable, with its mask c), Sequential, activations, Flatten."""
from __future__ import annotations

import numpy as np

from .. import functional as F
from ..ops import checks
from ..ops.sparse import SparseLinear
from ..tensor import Tensor
from .module import Module, Parameter


class Linear(Module):
    """``y = x (c * W)^T + b``: PyTorch's Linear with SNIP's mask ``c`` (Eq. 3).

    ``weight`` has shape (out_features, in_features) as in PyTorch; ``c`` (the buffer
    ``weight_mask``) has the same shape, ones until pruned. Weights start at zero: initialize
    with ``minisnip.nn.init.initialize(model, scheme)`` (the paper's Table 3 schemes).
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, dtype=np.float32):
        super().__init__()
        in_features = checks.integer(in_features, "Linear", "in_features", minimum=1)
        out_features = checks.integer(out_features, "Linear", "out_features", minimum=1)
        checks.flag(bias, "Linear", "bias")
        dtype = checks.float_dtype(dtype, "Linear")
        self.in_features, self.out_features = in_features, out_features
        self.weight = Parameter(np.zeros((out_features, in_features), dtype=dtype))
        self.bias = Parameter(np.zeros(out_features, dtype=dtype)) if bias else None
        self.register_mask("weight")
        self._sparse = None  # (pattern, compact columns or None, the mask version it came from)

    @property
    def c(self) -> Tensor:
        """The mask of the weight: the paper's indicator variables c (Eq. 3)."""
        return self.weight_mask

    def use_sparse_kernel(self, on: bool = True) -> "Linear":
        """Compute with the kept connections only (kernels/sparse.py), for a mask that will
        not change any more (after pruning). The result equals the dense ``c * w`` path; it
        is faster when few connections are kept (see benchmarks/bench_sparse.py). The layer
        falls back to the dense path while c requires grad (sensitivity needs dL/dc).

        While on, the mask is read-only: a direct write (``c.data[...] = ...``) fails, and a
        write through ``minisnip.masks.write`` (as ``prune`` makes) advances the mask's
        version, so the pattern is rebuilt at the next forward (an O(1) check per call)."""
        from ..kernels.sparse import compact_columns, pattern_from_mask
        self.c.data.flags.writeable = not on
        self._sparse = None
        if on:  # a new version: whoever cached the kept entries (the optimizers) looks again
            self.c.version = getattr(self.c, "version", 0) + 1
            pattern = pattern_from_mask(self.c.data != 0)
            used, x_rows = compact_columns(pattern[1], self.in_features)
            columns = (used, x_rows) if used.size <= self.in_features // 2 else None
            self._sparse = (pattern, columns, getattr(self.c, "version", 0))
        return self

    def sparse_kernel_pays(self) -> bool:
        """Whether the sparse kernel is expected to be faster than the dense ``c * w`` path:
        the mask's density at or below ``kernels.sparse.BREAK_EVEN_DENSITY``."""
        from ..kernels.sparse import BREAK_EVEN_DENSITY
        return bool(np.count_nonzero(self.c.data) <= BREAK_EVEN_DENSITY * self.c.data.size)

    def forward(self, x):
        shape = checks.tensor_argument(x, f"Linear({self.in_features}, {self.out_features})",
                                       "input").shape
        if not shape or shape[-1] != self.in_features:
            raise ValueError(f"Linear({self.in_features}, {self.out_features}): input has "
                             f"{shape[-1] if shape else 0} features (shape {shape}), expected "
                             f"{self.in_features}")
        if self._sparse is not None and not self.c.requires_grad:
            if self._sparse[2] != getattr(self.c, "version", 0):
                self.use_sparse_kernel()  # the mask was rewritten (pruned again)
            pattern, columns, _ = self._sparse  # built here from c: no need to check again
            return SparseLinear.apply(x, self.weight, self.masked("bias"), pattern,
                                      columns=columns)
        return F.linear(x, self.c * self.weight, self.masked("bias"))

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, " \
               f"bias={self.bias is not None}"


class Sequential(Module):
    """Apply modules in order; children are named "0", "1", ... as in PyTorch."""

    def __init__(self, *modules):
        super().__init__()
        for i, module in enumerate(modules):
            setattr(self, str(i), module)

    def __getitem__(self, i):
        return list(self._modules.values())[i]

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def forward(self, x):
        for module in self._modules.values():
            x = module(x)
        return x


class ReLU(Module):
    def forward(self, x):
        return x.relu()


class Tanh(Module):
    def forward(self, x):
        return x.tanh()


class Sigmoid(Module):
    def forward(self, x):
        return x.sigmoid()


class Identity(Module):
    def forward(self, x):
        return x


class Flatten(Module):
    def __init__(self, start_dim: int = 1, end_dim: int = -1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x):
        return x.flatten(self.start_dim, self.end_dim)
