"""Reductions: sum, mean, max over one axis, several axes or all (PyTorch's dim/keepdim)."""
from __future__ import annotations

import numpy as np

from ..autograd import Function
from ..tensor import raw


def normalize_dims(dim, ndim: int, op: str):
    """``dim`` (None, int or tuple, negatives allowed) as a sorted tuple of axes, checked."""
    if dim is None:
        return tuple(range(ndim))
    dims = (dim,) if isinstance(dim, (int, np.integer)) else tuple(dim)
    out = []
    for d in dims:
        if not -ndim <= d < (ndim or 1):
            raise ValueError(f"{op}: dim {d} is out of range for a tensor with {ndim} dimensions "
                             f"(expected -{ndim} <= dim < {ndim})")
        out.append(d % (ndim or 1))
    if len(set(out)) != len(out):
        raise ValueError(f"{op}: dim {dim} names an axis twice")
    return tuple(sorted(out))


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


class Max(Function):
    """Maximum over ``axes``. The gradient goes to the FIRST maximal element (in row-major
    order of the reduced axes) only, so a tie does not double the gradient."""

    @staticmethod
    def forward(ctx, a, axes, keepdim):
        ctx.shape, ctx.axes, ctx.keepdim = a.shape, axes, keepdim
        kept = [i for i in range(a.ndim) if i not in axes]
        moved = np.transpose(a, kept + list(axes)).reshape(
            [a.shape[i] for i in kept] + [-1])
        ctx.argmax = moved.argmax(axis=-1)
        out = np.take_along_axis(moved, ctx.argmax[..., None], axis=-1)[..., 0]
        ctx.kept = kept
        if keepdim:
            out = np.expand_dims(out, axes)
        return np.asarray(out)

    @staticmethod
    def backward(ctx, grad):
        shape, axes, kept = ctx.shape, ctx.axes, ctx.kept
        if ctx.keepdim:
            grad = np.squeeze(grad, axis=axes)
        reduced = int(np.prod([shape[i] for i in axes])) if axes else 1
        flat = np.zeros([shape[i] for i in kept] + [reduced], dtype=grad.dtype)
        np.put_along_axis(flat, ctx.argmax[..., None], grad[..., None], axis=-1)
        moved = flat.reshape([shape[i] for i in kept] + [shape[i] for i in axes])
        inverse = np.argsort(kept + list(axes))
        return np.ascontiguousarray(np.transpose(moved, inverse)), None, None


# ------------------------------------------------------------ the functions: checks, then apply
def sum(a, dim=None, keepdim=False):  # noqa: A001
    return Sum.apply(a, normalize_dims(dim, raw(a).ndim, "sum"), keepdim)


def mean(a, dim=None, keepdim=False):
    return Mean.apply(a, normalize_dims(dim, raw(a).ndim, "mean"), keepdim)


def max(a, dim=None, keepdim=False):  # noqa: A001
    return Max.apply(a, normalize_dims(dim, raw(a).ndim, "max"), keepdim)
