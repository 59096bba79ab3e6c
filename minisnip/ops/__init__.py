"""Differentiable ops: one Function per op, grouped by family, and the functions that call them.

Every function here takes Tensors (or array-likes / Python scalars) and returns a Tensor.
"""
from __future__ import annotations

import numpy as np

from .elementwise import Add, Mul


def _check_broadcast(op, a, b):
    try:
        np.broadcast_shapes(np.shape(a), np.shape(b))
    except ValueError:
        raise ValueError(f"{op}: shapes {np.shape(a)} and {np.shape(b)} cannot be broadcast "
                         f"together (NumPy rules: trailing dimensions must be equal or 1)") from None


def _raw(x):
    return getattr(x, "data", x)


def add(a, b):
    _check_broadcast("add", _raw(a), _raw(b))
    return Add.apply(a, b)


def mul(a, b):
    _check_broadcast("mul", _raw(a), _raw(b))
    return Mul.apply(a, b)
