"""minisnip: a small reverse-mode autodiff library in NumPy + Numba, built to teach SNIP.

SNIP: Lee, Ajanthan & Torr, "Single-shot Network Pruning based on Connection Sensitivity",
ICLR 2019. Start at ``minisnip/snip.py`` for the paper, ``minisnip/autograd.py`` for the engine.

Submodules (``functional``, ``nn``, ``optim``, ``snip``, ``masks``, ``report``, ``pruners``,
``data``, ``models``, ``train``, ``streams``, ``files``, ``gradcheck``, ``checkpoint``, ...)
are imported on first use.
"""
from __future__ import annotations

import importlib

from . import config
from .autograd import enable_grad, is_grad_enabled, no_grad, set_debug
from .tensor import Tensor, tensor

from ._meta import VERSION as __version__

_SUBMODULES = {"functional", "nn", "optim", "snip", "masks", "report", "pruners", "data",
               "models", "train", "streams", "files", "gradcheck", "checkpoint", "ops",
               "kernels", "plots", "experiments"}


def __getattr__(name):
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module 'minisnip' has no attribute {name!r}")


def manual_seed(seed: int):
    """A NumPy Generator for ``seed``: minisnip passes Generators explicitly, no global state."""
    import numpy as np
    return np.random.default_rng(seed)


__all__ = ["Tensor", "tensor", "no_grad", "enable_grad", "is_grad_enabled", "set_debug",
           "config", "manual_seed", "__version__"]
