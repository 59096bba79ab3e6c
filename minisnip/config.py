"""Library-wide switches.

``matmul_backend``: ``"numba"`` (the project's own kernel in ``kernels/matmul.py``) or
``"blas"`` (NumPy's ``@``, i.e. OpenBLAS). Set with ``minisnip.config.set_matmul_backend`` or
the environment variable ``MINISNIP_MATMUL``.
"""
from __future__ import annotations

import os

_BACKENDS = ("numba", "blas")
matmul_backend = os.environ.get("MINISNIP_MATMUL", "numba")
if matmul_backend not in _BACKENDS:
    raise ValueError(f"MINISNIP_MATMUL={matmul_backend!r}: expected one of {_BACKENDS}")


def set_matmul_backend(name: str) -> None:
    global matmul_backend
    if name not in _BACKENDS:
        raise ValueError(f"matmul backend {name!r}: expected one of {_BACKENDS}")
    matmul_backend = name
