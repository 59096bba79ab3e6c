"""Initializations of the paper's Table 3, and LeCun normal (TensorFlow's default variance
scaling, which the official SNIP code uses).

=========  =============================================  ===============================
scheme     weights                                        name elsewhere
=========  =============================================  ===============================
``rn``     N(0, 0.1^2)                                    random normal
``tn``     N(0, 0.1^2) truncated at 2 std (redrawn)       truncated normal
``vs-x``   N(0, 2 / (fan_in + fan_out))                   Glorot / Xavier normal
``vs-h``   N(0, 2 / fan_in)                               He / Kaiming normal
``lecun``  truncated N at 2 std, variance 1 / fan_in      TF variance_scaling default
=========  =============================================  ===============================

Biases are set to zero. Every Parameter with ndim >= 2 is a weight. Fans follow PyTorch:
(out, in) -> fan_in = in, fan_out = out; (out, in, kh, kw) -> multiplied by kh * kw. For the
recurrent matrices (G*H, D) of LSTM/GRU (modules with ``_gates = G``), the fans are those of
one gate block: fan_in = D, fan_out = H. Modules with ``_init_exempt = True`` (BatchNorm's
gamma/beta) are left alone.
"""
from __future__ import annotations

import numpy as np

RN_STD = 0.1
SCHEMES = ("rn", "tn", "vs-x", "vs-h", "lecun")


def _rng(rng):
    return rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)


def fans(shape: tuple, gates: int = 1) -> tuple:
    """(fan_in, fan_out) of a weight of ``shape``; ``gates`` splits a stacked recurrent matrix."""
    if len(shape) < 2:
        raise ValueError(f"fans: a weight needs at least 2 dimensions, got shape {shape}")
    receptive = int(np.prod(shape[2:])) if len(shape) > 2 else 1
    return shape[1] * receptive, (shape[0] // gates) * receptive


def _truncated(rng, std, shape):
    """N(0, std^2) truncated at 2 std, by redrawing the values outside."""
    values = rng.standard_normal(shape)
    bad = np.abs(values) > 2
    while bad.any():
        values[bad] = rng.standard_normal(int(bad.sum()))
        bad = np.abs(values) > 2
    return values * std


# The truncated standard normal on [-2, 2] has std 0.87962566; LeCun scales by it (as TF does)
# so that the variance really is 1 / fan_in.
_TRUNC_STD = 0.87962566103423978


def sample(scheme: str, shape: tuple, rng=None, gates: int = 1) -> np.ndarray:
    """Weights of ``shape`` drawn by ``scheme`` (float64; the caller casts)."""
    rng = _rng(rng)
    if scheme == "rn":
        return rng.standard_normal(shape) * RN_STD
    if scheme == "tn":
        return _truncated(rng, RN_STD, shape)
    fan_in, fan_out = fans(shape, gates)
    if scheme == "vs-x":
        return rng.standard_normal(shape) * np.sqrt(2.0 / (fan_in + fan_out))
    if scheme == "vs-h":
        return rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)
    if scheme == "lecun":
        return _truncated(rng, np.sqrt(1.0 / fan_in) / _TRUNC_STD, shape)
    raise ValueError(f"unknown initialization {scheme!r}; expected one of {', '.join(SCHEMES)}")


def initialize(model, scheme: str = "vs-x", rng=None):
    """Initialize every weight of ``model`` by ``scheme`` and set biases to zero, in place.

    Parameters are visited in ``named_parameters`` order, so a seed gives the same network.
    The scheme is recorded as ``model.init_scheme`` (the ``-reinit`` sanity check of
    ``pruners`` re-draws from it).
    """
    if scheme not in SCHEMES:
        raise ValueError(f"unknown initialization {scheme!r}; expected one of {', '.join(SCHEMES)}")
    rng = _rng(rng)
    for _, module in model.named_modules():
        if getattr(module, "_init_exempt", False):
            continue
        gates = getattr(module, "_gates", 1)
        for _, param in module._parameters.items():
            if param is None:
                continue
            if param.ndim >= 2:
                param.data[...] = sample(scheme, param.shape, rng, gates)
                if param.mask is not None:
                    param.data *= param.mask.data  # a pruned connection stays pruned
            else:
                param.data[...] = 0
    model.init_scheme = scheme
    return model
