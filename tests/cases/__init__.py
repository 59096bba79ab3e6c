"""The op registry that drives the gradient checks (DESIGN principle 4).

Each family of ops has a module here (``basic.py``, ``conv.py``, ``recurrent.py``, ...) that
registers, for every ``Function`` subclass it defines, one or more cases::

    @gradcheck_case(Mul)
    def mul_broadcast(rng):
        a = rng.standard_normal((3, 4))
        b = rng.standard_normal((4,))
        return (lambda x, y: x * y), [a, b]

A case gets a ``numpy.random.Generator`` and returns ``(fn, inputs)``: ``fn`` takes Tensors
(one per input) and returns a Tensor; ``inputs`` are float64 arrays (they may be non-contiguous
views). ``tests/test_gradcheck.py`` runs ``minisnip.gradcheck.gradcheck`` on every case and
fails if any ``Function`` subclass in the library has no case at all.
"""
from __future__ import annotations

import importlib
import pkgutil

CASES: dict = {}  # Function subclass -> list of case factories


def gradcheck_case(function_cls):
    def register(factory):
        CASES.setdefault(function_cls, []).append(factory)
        return factory
    return register


def load_all_cases() -> dict:
    """Import every module of this package so that all cases are registered."""
    for info in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{info.name}")
    return CASES
