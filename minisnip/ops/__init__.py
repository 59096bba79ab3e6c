"""Differentiable ops: one Function per op, grouped by family, and the functions that call them.

Every function here takes Tensors (or array-likes / Python scalars) and returns a Tensor;
names and argument order follow PyTorch. The checks that give students readable errors live
here, in front of the Functions, so that each Function stays forward + backward only.
"""
from __future__ import annotations

import numpy as np

from .conv import (AvgPool2d, BatchNorm2d, Conv2d, MaxPool2d, adaptive_avg_pool2d,
                   avg_pool2d, batch_norm, conv2d, global_avg_pool2d, max_pool2d)
from .recurrent import GRU, LSTM, gru, lstm
from .sparse import SparseLinear, sparse_linear
from .elementwise import (Abs, Add, Div, Exp, Log, Mul, Neg, Pow, ReLU, Sigmoid, Sub, Tanh)
from .linalg import Linear, MatMul
from .loss import CrossEntropy, LogSoftmax
from .reduction import Max, Mean, Sum, normalize_dims
from .shape import Cat, GetItem, Permute, Reshape, Stack


def _raw(x):
    """The ndarray inside a Tensor; anything else unchanged. (Not ``getattr(x, "data", x)``:
    a NumPy array has a ``.data`` attribute too, its raw memoryview.)"""
    from ..tensor import Tensor
    return x.data if isinstance(x, Tensor) else x


def _check_broadcast(op, a, b):
    try:
        np.broadcast_shapes(np.shape(a), np.shape(b))
    except ValueError:
        raise ValueError(f"{op}: shapes {np.shape(a)} and {np.shape(b)} cannot be broadcast "
                         f"together (NumPy rules: trailing dimensions must be equal or 1)") from None


def _scalar_like(x, other):
    """A Python scalar becomes an array of the other operand's dtype (float32 stays float32)."""
    if isinstance(x, (int, float)) and not isinstance(x, bool):
        dtype = _raw(other).dtype if hasattr(_raw(other), "dtype") else np.float32
        return np.asarray(x, dtype=dtype)
    return x


def _binary(function, name, a, b):
    a, b = _scalar_like(a, b), _scalar_like(b, a)
    _check_broadcast(name, _raw(a), _raw(b))
    return function.apply(a, b)


# --------------------------------------------------------------------- elementwise
def add(a, b): return _binary(Add, "add", a, b)
def sub(a, b): return _binary(Sub, "sub", a, b)
def mul(a, b): return _binary(Mul, "mul", a, b)
def div(a, b): return _binary(Div, "div", a, b)
def neg(a): return Neg.apply(a)
def exp(a): return Exp.apply(a)
def log(a): return Log.apply(a)
def relu(a): return ReLU.apply(a)
def tanh(a): return Tanh.apply(a)
def sigmoid(a): return Sigmoid.apply(a)
def abs(a): return Abs.apply(a)  # noqa: A001 (PyTorch's name)


def pow(a, exponent):  # noqa: A001 (PyTorch's name)
    if not np.isscalar(exponent):
        raise TypeError(f"pow: the exponent must be a Python/NumPy scalar, got "
                        f"{type(exponent).__name__}")
    return Pow.apply(a, exponent)


# ----------------------------------------------------------------------- reductions
def sum(a, dim=None, keepdim=False):  # noqa: A001
    return Sum.apply(a, normalize_dims(dim, _raw(a).ndim, "sum"), keepdim)


def mean(a, dim=None, keepdim=False):
    return Mean.apply(a, normalize_dims(dim, _raw(a).ndim, "mean"), keepdim)


def max(a, dim=None, keepdim=False):  # noqa: A001
    return Max.apply(a, normalize_dims(dim, _raw(a).ndim, "max"), keepdim)


# ---------------------------------------------------------------------------- shape
def reshape(a, *shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    size = _raw(a).size
    known = int(np.prod([s for s in shape if s != -1])) if shape else 1
    if (-1 not in shape and known != size) or (-1 in shape and (known == 0 or size % known)):
        raise ValueError(f"reshape: cannot reshape a tensor of shape {_raw(a).shape} "
                         f"({size} elements) into {tuple(shape)}")
    return Reshape.apply(a, tuple(shape))


def flatten(a, start_dim=0, end_dim=-1):
    shape = _raw(a).shape
    if not shape:
        return reshape(a, 1)
    start, end = start_dim % len(shape), end_dim % len(shape)
    return reshape(a, shape[:start] + (-1,) + shape[end + 1:])


def permute(a, *dims):
    if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
        dims = tuple(dims[0])
    ndim = _raw(a).ndim
    if sorted(d % ndim for d in dims) != list(range(ndim)) or len(dims) != ndim:
        raise ValueError(f"permute: {dims} is not a permutation of the {ndim} axes of a tensor "
                         f"of shape {_raw(a).shape}")
    return Permute.apply(a, tuple(d % ndim for d in dims))


def transpose(a, dim0, dim1):
    ndim = _raw(a).ndim
    dims = list(range(ndim))
    for d in (dim0, dim1):
        if not -ndim <= d < ndim:
            raise ValueError(f"transpose: dim {d} out of range for shape {_raw(a).shape}")
    dims[dim0], dims[dim1] = dims[dim1], dims[dim0]
    return Permute.apply(a, tuple(dims))


def getitem(a, index):
    index = _raw(index) if not isinstance(index, tuple) else tuple(_raw(i) for i in index)
    try:
        _raw(a)[index]
    except IndexError as error:
        raise IndexError(f"getitem: index {index!r} does not fit a tensor of shape "
                         f"{_raw(a).shape}: {error}") from None
    return GetItem.apply(a, index)


def cat(tensors, dim=0):
    tensors = list(tensors)
    if not tensors:
        raise ValueError("cat: expected a non-empty list of tensors")
    shapes = [_raw(t).shape for t in tensors]
    ndim = len(shapes[0])
    d = dim % ndim if ndim else 0
    for s in shapes:
        if len(s) != ndim or s[:d] + s[d + 1:] != shapes[0][:d] + shapes[0][d + 1:]:
            raise ValueError(f"cat: all shapes must match except along dim {dim}, got {shapes}")
    return Cat.apply(*tensors, dim=d)


def stack(tensors, dim=0):
    tensors = list(tensors)
    if not tensors:
        raise ValueError("stack: expected a non-empty list of tensors")
    shapes = [_raw(t).shape for t in tensors]
    if any(s != shapes[0] for s in shapes):
        raise ValueError(f"stack: all tensors must have the same shape, got {shapes}")
    return Stack.apply(*tensors, dim=dim % (len(shapes[0]) + 1))


# --------------------------------------------------------------------------- linalg
def matmul(a, b):
    sa, sb = _raw(a).shape, _raw(b).shape
    if len(sa) == 0 or len(sb) == 0:
        raise ValueError(f"matmul: both operands need at least 1 dimension, got {sa} and {sb}")
    k_a = sa[-1]
    k_b = sb[0] if len(sb) == 1 else sb[-2]
    if k_a != k_b:
        raise ValueError(f"matmul: shapes {sa} and {sb} do not fit: the last dimension of the "
                         f"first ({k_a}) must equal the {'only' if len(sb) == 1 else 'second-to-last'}"
                         f" dimension of the second ({k_b})")
    try:
        np.broadcast_shapes(sa[:-2], sb[:-2])
    except ValueError:
        raise ValueError(f"matmul: the batch dimensions of {sa} and {sb} cannot be broadcast") from None
    return MatMul.apply(a, b)


def linear(x, weight, bias=None):
    """``x @ weight.T + bias`` with ``weight`` of shape (out_features, in_features)."""
    sx, sw = _raw(x).shape, _raw(weight).shape
    if len(sw) != 2:
        raise ValueError(f"linear: weight must be 2-D (out_features, in_features), got {sw}")
    if not sx or sx[-1] != sw[1]:
        raise ValueError(f"linear: input of shape {sx} does not fit weight of shape {sw}: the "
                         f"input's last dimension must be in_features = {sw[1]}")
    if bias is not None and _raw(bias).shape != (sw[0],):
        raise ValueError(f"linear: bias of shape {_raw(bias).shape}, expected ({sw[0]},)")
    return Linear.apply(x, weight, bias)


# ----------------------------------------------------------------------------- loss
def log_softmax(x, dim=-1):
    return LogSoftmax.apply(x, dim % _raw(x).ndim)


def cross_entropy(logits, targets):
    """Mean softmax cross-entropy of ``logits`` (N, C) against integer class ``targets`` (N,)."""
    z = _raw(logits)
    t = np.asarray(_raw(targets))
    if z.ndim != 2:
        raise ValueError(f"cross_entropy: logits must be (batch, classes), got shape {z.shape}")
    if t.shape != (z.shape[0],):
        raise ValueError(f"cross_entropy: targets must have shape ({z.shape[0]},) to match "
                         f"logits {z.shape}, got {t.shape}")
    if t.dtype.kind not in "iu":
        raise TypeError(f"cross_entropy: targets must be integer class indices, got dtype {t.dtype}")
    if t.size and (t.min() < 0 or t.max() >= z.shape[1]):
        raise ValueError(f"cross_entropy: targets must be in [0, {z.shape[1]}), got values "
                         f"from {t.min()} to {t.max()}")
    return CrossEntropy.apply(logits, t)
