"""The logistic sigmoid s(v) = 1 / (1 + exp(-v)), the one place it is written, in the two forms
the library needs: ``sigmoid`` on a scalar, called inside the compiled loops of the fused
LSTM/GRU cells (``kernels/recurrent.py``), and ``sigmoid_array`` on a whole array, which the
``sigmoid`` op (``ops/elementwise.py``) calls. The tests hold both to one oracle.

Overflow-free: for v < 0 both use the equal form exp(v) / (1 + exp(v)), so ``exp`` never sees
a large positive argument (1 / (1 + exp(1000)) would overflow to inf on the way to 0).

Performance contract of ``sigmoid_array``: NumPy's vectorized ufuncs in the array's own dtype
(a Numba loop computing the scalar form measured about twice slower: NumPy's float32 ``exp``
is SIMD, a scalar call in a loop is not); O(size), memory-bound.
"""
from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, fastmath={"contract"})
def sigmoid(v):
    """s(v) for a scalar v (in float64: the literals are float64)."""
    return 1.0 / (1.0 + np.exp(-v)) if v >= 0 else np.exp(v) / (1.0 + np.exp(v))


def sigmoid_array(x):
    """s(x) entry by entry for an array x of any shape; same dtype (float32 stays float32)."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)
