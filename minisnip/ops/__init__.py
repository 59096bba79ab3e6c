"""Differentiable ops: one Function per op, grouped by family, and the functions that call them.

Every function here takes Tensors (or NumPy arrays; numbers where PyTorch takes them, as the
operands of + - * /) and returns a Tensor (``max``/``min`` with a dim: values and indices);
names, argument order and defaults follow PyTorch. Each family's module holds its Functions
(forward and backward side by side) and, after them, its functions: the argument checks that
give students readable errors (the shared ones in ``checks.py``), then ``Function.apply``.
This file only gathers them.
"""
from __future__ import annotations

from .conv import (AvgPool2d, BatchNorm2d, Conv2d, MaxPool2d, adaptive_avg_pool2d,  # noqa: F401
                   avg_pool2d, batch_norm, conv2d, global_avg_pool2d, max_pool2d)
from .elementwise import (Abs, Add, Div, Exp, Log, Mul, Neg, Pow, ReLU, Sigmoid,  # noqa: F401
                          Sub, Tanh, abs, add, div, exp, log, mul, neg, pow, relu, sigmoid,
                          sub, tanh)
from .linalg import Linear, MatMul, linear, matmul  # noqa: F401
from .loss import CrossEntropy, LogSoftmax, cross_entropy, log_softmax  # noqa: F401
from .recurrent import GRU, LSTM, gru, lstm  # noqa: F401
from .reduction import (Amax, Amin, Mean, Sum, TakeAlongDim, amax, amin, max, mean,  # noqa: F401
                        min, normalize_dims, sum)
from .shape import (Cat, GetItem, Permute, Reshape, Stack, cat, flatten, getitem,  # noqa: F401
                    permute, reshape, stack, transpose)
from .sparse import SparseLinear, sparse_conv2d, sparse_linear  # noqa: F401
