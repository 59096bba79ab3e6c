"""The argument checks every op family shares: a tensor argument, an integer size, a pair of
sizes, a real hyper-parameter. Each family's own checks (shapes that must fit together) stay
beside its Functions; these helpers only make the common refusals read the same everywhere:
the op, the argument, what was given and what was expected (DESIGN principle 8), raised
before anything reaches NumPy or a Numba kernel.

Type errors (a list where a Tensor goes, a float where an int goes, an int64 input to a
float-only kernel) raise TypeError; values out of range raise ValueError.
"""
from __future__ import annotations

import math

import numpy as np

from ..tensor import Tensor, raw

FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def describe(value) -> str:
    """A short description of a value for an error message: its type, and the value itself
    when it is short."""
    if value is None:
        return "None"
    if isinstance(value, Tensor):
        return f"a {value.dtype} Tensor of shape {value.shape}"
    if isinstance(value, np.ndarray):
        return f"a {value.dtype} array of shape {value.shape}"
    text = repr(value)
    return f"{type(value).__name__} {text if len(text) <= 40 else text[:37] + '...'}"


def tensor_argument(x, op: str, name: str, *, floating: bool = True) -> np.ndarray:
    """The array inside ``x``, which must be a Tensor or a NumPy array (as PyTorch's functions
    want a Tensor: a list, a number or None is refused), of dtype float32 or float64 when
    ``floating`` (the kernels are compiled for those two)."""
    if isinstance(x, Tensor):
        array = x.data
    elif isinstance(x, np.ndarray):
        array = x
    else:
        raise TypeError(f"{op}: {name} must be a Tensor (or a NumPy array), got {describe(x)}")
    if floating and array.dtype not in FLOATS:
        raise TypeError(f"{op}: {name} must be float32 or float64, got dtype {array.dtype} "
                        f"(convert it with .astype(np.float32))")
    return array


def integer(value, op: str, name: str, minimum: int | None = None) -> int:
    """A Python or NumPy integer (not a bool, not a float) at least ``minimum``, as an int."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{op}: {name} must be an int, got {describe(value)}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{op}: {name} must be >= {minimum}, got {value}")
    return int(value)


def int_pair(value, op: str, name: str, minimum: int | None = None,
             single: bool = False) -> tuple:
    """An int or a pair of ints (height, width), as PyTorch's kernel sizes, strides and
    paddings; with ``single`` also a sequence of one int (PyTorch's pooling takes it)."""
    if isinstance(value, (tuple, list)):
        if not (len(value) == 2 or (single and len(value) == 1)):
            raise ValueError(f"{op}: {name} must be an int or a pair of ints (height, width), "
                             f"got {value!r}")
        items = tuple(integer(v, op, name, minimum) for v in value)
        return items * 2 if len(items) == 1 else items
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{op}: {name} must be an int or a pair of ints (height, width), got "
                        f"{describe(value)}")
    v = integer(value, op, name, minimum)
    return v, v


def real(value, op: str, name: str, *, low: float | None = None, high: float | None = None,
         low_open: bool = False) -> float:
    """A finite real number (not a bool) in [low, high] (``low_open``: (low, high])."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer,
                                                                      np.floating)):
        raise TypeError(f"{op}: {name} must be a number, got {describe(value)}")
    v = float(value)
    if not math.isfinite(v):
        raise ValueError(f"{op}: {name} must be finite, got {value}")
    if low is not None and (v < low or (low_open and v == low)):
        raise ValueError(f"{op}: {name} must be {'>' if low_open else '>='} {low}, got {value}")
    if high is not None and v > high:
        raise ValueError(f"{op}: {name} must be <= {high}, got {value}")
    return v


def flag(value, op: str, name: str) -> bool:
    """A bool (Python's or NumPy's), not a number or None standing for one."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{op}: {name} must be a bool, got {describe(value)}")
    return bool(value)


def float_dtype(dtype, op: str):
    """A layer's parameter dtype: float32 or float64."""
    try:
        dtype = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"{op}: dtype must be float32 or float64, got {describe(dtype)}") from None
    if dtype not in FLOATS:
        raise TypeError(f"{op}: dtype must be float32 or float64, got {dtype}")
    return dtype


def linear_arguments(x, weight, bias, op: str) -> tuple:
    """The checks of ``linear`` and ``sparse_linear``: tensors, a 2-D weight (out_features,
    in_features), an input whose last dimension is in_features, a bias of (out_features,).
    Returns the weight's shape."""
    sx = tensor_argument(x, op, "input").shape
    sw = tensor_argument(weight, op, "weight").shape
    if bias is not None:
        tensor_argument(bias, op, "bias")
    if len(sw) != 2:
        raise ValueError(f"{op}: weight must be 2-D (out_features, in_features), got {sw}")
    if not sx or sx[-1] != sw[1]:
        raise ValueError(f"{op}: input of shape {sx} does not fit weight of shape {sw}: the "
                         f"input's last dimension must be in_features = {sw[1]}")
    if bias is not None and raw(bias).shape != (sw[0],):
        raise ValueError(f"{op}: bias of shape {raw(bias).shape}, expected ({sw[0]},)")
    return sw
