"""Reductions with PyTorch's names and return types.

``sum``, ``mean``, ``amax``, ``amin``: over one axis, several axes or all (``dim`` an int, a
tuple or None; ``keepdim``). ``max`` / ``min`` as PyTorch's: without ``dim`` the extreme entry;
with an int ``dim`` the named tuple ``(values, indices)``. A tuple of dims is ``amax`` /
``amin``'s job (PyTorch's split), and ``max``/``min`` refuse one, saying so.

Gradients where entries tie, as PyTorch computes them:
* ``amax``/``amin`` and ``max()``/``min()`` without dim share the gradient evenly among the
  tied extremes (at a tie of two, exactly what central finite differences see);
* ``max(dim)``/``min(dim)`` send it to the returned index only (the first extreme, or the
  first NaN: NumPy's ``argmax``/``argmin`` rule, PyTorch's on CPU).
NaN: every reduction returns NaN for a slice holding one. The gradient of ``amax``/``amin``
is then NaN over the slice; ``max()``/``min()`` share it among the NaNs; ``max(dim)``/
``min(dim)`` send it to the first NaN. (PyTorch does exactly this.)
"""
from __future__ import annotations

import builtins
from collections import namedtuple

import numpy as np

from ..autograd import Function
from ..tensor import Tensor
from . import checks
from .shape import reshape

# PyTorch's torch.return_types.max / .min: a tuple (values, indices) with those two names.
# ``values`` is a Tensor (differentiable); ``indices`` an int64 NumPy array, like every
# non-differentiable result in minisnip (comparisons give boolean arrays).
MaxResult = namedtuple("max", ["values", "indices"])
MinResult = namedtuple("min", ["values", "indices"])


def normalize_dims(dim, ndim: int, op: str):
    """``dim`` (None, an int or a tuple/list of ints, negatives allowed) as a sorted tuple of
    axes, checked. None means every axis; an empty tuple is refused (PyTorch reduces every
    axis for it, NumPy none: ambiguous, so minisnip asks for None)."""
    if dim is None:
        return tuple(range(ndim))
    if isinstance(dim, (tuple, list)):
        dims = tuple(dim)
        if not dims:
            raise ValueError(f"{op}: dim=() is ambiguous (PyTorch reduces every axis for it, "
                             f"NumPy none); pass dim=None to reduce every axis")
    else:
        dims = (dim,)
    out = []
    for d in dims:
        if isinstance(d, (bool, np.bool_)) or not isinstance(d, (int, np.integer)):
            raise TypeError(f"{op}: dim must be an int or a tuple of ints, got {checks.describe(dim)}")
        if not -ndim <= d < (ndim or 1):
            raise ValueError(f"{op}: dim {d} is out of range for a tensor with {ndim} dimensions "
                             f"(expected -{ndim} <= dim < {builtins.max(ndim, 1)})")
        out.append(int(d) % (ndim or 1))
    if len(set(out)) != len(out):
        raise ValueError(f"{op}: dim {dim} names an axis twice")
    return tuple(sorted(out)) if ndim else ()   # a 0-d tensor: dim 0 or -1, nothing to reduce


def _expand(grad, shape, axes, keepdim):
    """Give ``grad`` back the reduced axes (as size 1) so that it broadcasts against ``shape``."""
    if not keepdim:
        grad = np.expand_dims(grad, axes)
    return grad


class Sum(Function):
    @staticmethod
    def forward(ctx, a, axes, keepdim):
        ctx.shape, ctx.axes, ctx.keepdim = a.shape, axes, keepdim
        return np.asarray(a.sum(axis=axes, keepdims=keepdim))

    @staticmethod
    def backward(ctx, grad):
        grad = _expand(grad, ctx.shape, ctx.axes, ctx.keepdim)
        return np.broadcast_to(grad, ctx.shape).copy(), None, None


class Mean(Function):
    @staticmethod
    def forward(ctx, a, axes, keepdim):
        ctx.shape, ctx.axes, ctx.keepdim = a.shape, axes, keepdim
        ctx.count = int(np.prod([a.shape[i] for i in axes])) if axes else 1
        return np.asarray(a.mean(axis=axes, keepdims=keepdim))

    @staticmethod
    def backward(ctx, grad):
        grad = _expand(grad, ctx.shape, ctx.axes, ctx.keepdim) / ctx.count
        return np.broadcast_to(grad, ctx.shape).astype(grad.dtype, copy=True), None, None


def _shared_among_extremes(ctx, grad):
    """The backward of Amax/Amin: the gradient of each slice shared evenly among the entries
    equal to its extreme. A slice whose extreme is NaN has no such entry: 0/0 = NaN over the
    slice, as PyTorch's amax gives, or, with ``nan_shares`` (PyTorch's ``max()``/``min()``
    without dim), shared among its NaNs."""
    a, out = ctx.saved
    grad = _expand(grad, a.shape, ctx.axes, ctx.keepdim)
    out = _expand(out, a.shape, ctx.axes, ctx.keepdim)
    hit = a == out
    if ctx.nan_shares:
        hit = np.where(np.isnan(out), np.isnan(a), hit)
    count = hit.sum(axis=ctx.axes, keepdims=True).astype(grad.dtype)
    with np.errstate(divide="ignore", invalid="ignore"):
        return (grad * hit / count).astype(grad.dtype, copy=False), None, None


class Amax(Function):
    """The maximum over ``axes`` (NaN if the slice holds one); the gradient is shared evenly
    among tied maxima (``_shared_among_extremes``)."""

    @staticmethod
    def forward(ctx, a, axes, keepdim, nan_shares=False):
        out = np.asarray(np.max(a, axis=axes, keepdims=keepdim))
        ctx.save_for_backward(a, out)
        ctx.axes, ctx.keepdim, ctx.nan_shares = axes, keepdim, nan_shares
        return out

    backward = staticmethod(_shared_among_extremes)


class Amin(Function):
    """The minimum over ``axes``; the gradient as Amax's."""

    @staticmethod
    def forward(ctx, a, axes, keepdim, nan_shares=False):
        out = np.asarray(np.min(a, axis=axes, keepdims=keepdim))
        ctx.save_for_backward(a, out)
        ctx.axes, ctx.keepdim, ctx.nan_shares = axes, keepdim, nan_shares
        return out

    backward = staticmethod(_shared_among_extremes)


class TakeAlongDim(Function):
    """The entries of ``a`` at ``indices`` along axis ``dim`` (``indices`` has ``a``'s shape
    with ``dim`` of size 1): the values of ``max(dim)`` / ``min(dim)``. The gradient goes to
    those entries only; at a tie, to the index that was returned."""

    @staticmethod
    def forward(ctx, a, indices, dim, keepdim):
        ctx.shape, ctx.indices, ctx.dim, ctx.keepdim = a.shape, indices, dim, keepdim
        out = np.take_along_axis(a, indices, axis=dim)
        return out if keepdim else np.squeeze(out, axis=dim)

    @staticmethod
    def backward(ctx, grad):
        grad = grad if ctx.keepdim else np.expand_dims(grad, ctx.dim)
        out = np.zeros(ctx.shape, dtype=grad.dtype)
        np.put_along_axis(out, ctx.indices, grad, axis=ctx.dim)
        return out, None, None, None


# ------------------------------------------------------------ the functions: checks, then apply
def _keepdim(keepdim, op):
    if not isinstance(keepdim, (bool, np.bool_)):
        raise TypeError(f"{op}: keepdim must be a bool, got {checks.describe(keepdim)}")
    return bool(keepdim)


def _refuse_empty(op, array, axes):
    if any(array.shape[i] == 0 for i in axes) or (not axes and array.size == 0):
        raise ValueError(f"{op}: cannot reduce a tensor of shape {array.shape} over "
                         f"{'every axis' if len(axes) == array.ndim else _dims(axes)}: a "
                         f"reduced axis is empty (the extreme of nothing is undefined)")


def _dims(axes):
    return f"dim {axes[0]}" if len(axes) == 1 else f"dims {axes}"


def sum(a, dim=None, keepdim=False):  # noqa: A001 (PyTorch's name)
    array = checks.tensor_argument(a, "sum", "input", floating=False)
    return Sum.apply(a, normalize_dims(dim, array.ndim, "sum"), _keepdim(keepdim, "sum"))


def mean(a, dim=None, keepdim=False):
    array = checks.tensor_argument(a, "mean", "input", floating=False)
    return Mean.apply(a, normalize_dims(dim, array.ndim, "mean"), _keepdim(keepdim, "mean"))


def amax(a, dim=None, keepdim=False):
    """PyTorch's ``amax``: the maximum over ``dim`` (an int, a tuple of ints, or None for
    every axis); tied maxima share the gradient evenly."""
    array = checks.tensor_argument(a, "amax", "input", floating=False)
    axes = normalize_dims(dim, array.ndim, "amax")
    _refuse_empty("amax", array, axes)
    return Amax.apply(a, axes, _keepdim(keepdim, "amax"))


def amin(a, dim=None, keepdim=False):
    """PyTorch's ``amin``: the minimum over ``dim``; tied minima share the gradient evenly."""
    array = checks.tensor_argument(a, "amin", "input", floating=False)
    axes = normalize_dims(dim, array.ndim, "amin")
    _refuse_empty("amin", array, axes)
    return Amin.apply(a, axes, _keepdim(keepdim, "amin"))


def _extreme(op, a, dim, keepdim):
    """``max`` and ``min``: PyTorch's two forms, everything else refused naming the way."""
    array = checks.tensor_argument(a, op, "input", floating=False)
    keepdim = _keepdim(keepdim, op)
    whole, along, result = ((Amax, np.argmax, MaxResult) if op == "max"
                            else (Amin, np.argmin, MinResult))
    if dim is None:
        if keepdim:
            raise ValueError(f"{op}: keepdim=True needs a dim (PyTorch's {op}() without dim "
                             f"has no keepdim); use a{op}(x, keepdim=True)")
        _refuse_empty(op, array, tuple(range(array.ndim)))
        return whole.apply(a, tuple(range(array.ndim)), False, nan_shares=True)
    if isinstance(dim, (tuple, list)):
        raise TypeError(f"{op}: dim must be an int, got {checks.describe(dim)}; the {op}imum "
                        f"over several dims is a{op}(x, dim={tuple(dim)!r}) (PyTorch's name), "
                        f"which returns the values only")
    if isinstance(dim, (Tensor, np.ndarray)):
        raise TypeError(f"{op}: dim must be an int, got {checks.describe(dim)}; the elementwise "
                        f"{op}imum of two tensors (torch.{op}(a, b)) is not implemented")
    axes = normalize_dims(dim, array.ndim, op)
    if array.ndim == 0:        # PyTorch: a 0-d tensor's max(0) is itself, at index 0
        return result(reshape(a, ()), np.zeros((), dtype=np.int64))
    (axis,) = axes
    _refuse_empty(op, array, (axis,))
    indices = along(array, axis=axis, keepdims=True).astype(np.int64, copy=False)
    values = TakeAlongDim.apply(a, indices, axis, keepdim)
    return result(values, indices if keepdim else np.squeeze(indices, axis=axis))


def max(a, dim=None, keepdim=False):  # noqa: A001 (PyTorch's name)
    """PyTorch's ``max``: ``max(x)`` is the largest entry (a 0-d Tensor; tied maxima share
    the gradient); ``max(x, dim)`` with an int ``dim`` is the named tuple ``(values,
    indices)``: values a Tensor, indices an int64 NumPy array of the first maximum (the first
    NaN if there is one), the gradient going to it. For several dims use ``amax``."""
    return _extreme("max", a, dim, keepdim)


def min(a, dim=None, keepdim=False):  # noqa: A001 (PyTorch's name)
    """PyTorch's ``min``: as ``max``, for the smallest entry; for several dims use ``amin``."""
    return _extreme("min", a, dim, keepdim)
