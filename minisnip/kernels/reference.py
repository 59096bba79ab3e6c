"""Slow, obvious NumPy versions of every Numba kernel: the oracles the tests compare against.

Each function here has the same signature and returns the same thing as the kernel of the
same name in its ``kernels/<family>.py`` module. Clarity over speed: loops and ``einsum``
where they say what the kernel computes.
"""
from __future__ import annotations

import numpy as np


# --------------------------------------------------------------------- kernels/matmul.py
def matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """C[i, j] = sum_k A[i, k] B[k, j], accumulated in float64 then cast back."""
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[0]:
        raise ValueError(f"matmul oracle: shapes {a.shape} and {b.shape} do not fit")
    dtype = np.result_type(a.dtype, b.dtype)
    return np.einsum("ik,kj->ij", a.astype(np.float64), b.astype(np.float64)).astype(dtype)
