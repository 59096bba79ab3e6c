"""Basic layers: Linear (prunable, with its mask c), Sequential, activations, Flatten."""
from __future__ import annotations

import numpy as np

from .. import functional as F
from ..ops import checks
from ..kernels.sparse import LINEAR_BREAK_EVEN_DENSITY, compact_columns, pattern_from_mask
from ..ops.sparse import SparseLinear
from ..tensor import Tensor
from .module import Module, Parameter
from .sparse import SparseKernelLayer


class Linear(SparseKernelLayer, Module):
    """``y = x (c * W)^T + b``: PyTorch's Linear with SNIP's mask ``c`` (Eq. 3).

    ``weight`` has shape (out_features, in_features) as in PyTorch; ``c`` (the buffer
    ``weight_mask``) has the same shape, ones until pruned. Weights start at zero: initialize
    with ``minisnip.nn.init.initialize(model, scheme)`` (the paper's Table 3 schemes).
    After pruning, ``use_sparse_kernel()`` computes from the kept connections only
    (``nn/sparse.py``, ``ops/sparse.py``).
    """

    BREAK_EVEN_DENSITY = LINEAR_BREAK_EVEN_DENSITY  # for use_sparse_kernels("auto")

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

    @property
    def c(self) -> Tensor:
        """The mask of the weight: the paper's indicator variables c (Eq. 3)."""
        return self.weight_mask

    def _kept_connections(self) -> tuple:
        """(pattern, compact columns or None): the columns when at most half the inputs are
        read by a kept connection (``kernels.sparse.compact_columns``)."""
        pattern = pattern_from_mask(self.c.data != 0)
        used, x_rows = compact_columns(pattern[1], self.in_features)
        return pattern, ((used, x_rows) if used.size <= self.in_features // 2 else None)

    def forward(self, x):
        shape = checks.tensor_argument(x, f"Linear({self.in_features}, {self.out_features})",
                                       "input").shape
        if not shape or shape[-1] != self.in_features:
            raise ValueError(f"Linear({self.in_features}, {self.out_features}): input has "
                             f"{shape[-1] if shape else 0} features (shape {shape}), expected "
                             f"{self.in_features}")
        sparse = self._sparse_now()
        if sparse is not None:  # built here from c: no need to check it again
            pattern, columns = sparse
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
