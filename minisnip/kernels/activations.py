"""The logistic sigmoid s(v) = 1 / (1 + exp(-v)), written once for the whole library: the
fused LSTM/GRU cells (``kernels/recurrent.py``) call ``sigmoid`` on scalars inside their
loops, the ``sigmoid`` op (``ops/elementwise.py``) calls ``sigmoid_array``.

Overflow-free: for v < 0 the equal form exp(v) / (1 + exp(v)) is used, so ``exp`` never sees
a large positive argument (1 / (1 + exp(1000)) would overflow to inf on the way to 0).

Performance contract of ``sigmoid_array``: one serial pass, no temporaries (the NumPy form
takes five passes and three temporaries); memory-bound, O(size).
"""
from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, fastmath={"contract"})
def sigmoid(v):
    """s(v) for a scalar v."""
    return 1.0 / (1.0 + np.exp(-v)) if v >= 0 else np.exp(v) / (1.0 + np.exp(v))


@njit(cache=True)
def sigmoid_array(x):
    """s(x) entry by entry for a 1-D array x; same dtype."""
    out = np.empty_like(x)
    for i in range(x.size):
        out[i] = sigmoid(x[i])
    return out
