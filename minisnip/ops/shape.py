"""Shape ops: reshape, transpose/permute, indexing, cat, stack. No arithmetic, only moving."""
from __future__ import annotations

import numpy as np

from ..autograd import Function


class Reshape(Function):
    @staticmethod
    def forward(ctx, a, shape):
        ctx.shape = a.shape
        return np.reshape(a, shape)

    @staticmethod
    def backward(ctx, grad):
        return np.reshape(grad, ctx.shape), None


class Permute(Function):
    """Reorder the axes (``transpose`` is the two-axis case). Returns a view in the forward;
    the backward applies the inverse permutation."""

    @staticmethod
    def forward(ctx, a, dims):
        ctx.dims = dims
        return np.transpose(a, dims)

    @staticmethod
    def backward(ctx, grad):
        return np.transpose(grad, np.argsort(ctx.dims)), None


def _has_integer_array(index) -> bool:
    """Whether ``index`` contains an integer array (the only kind that can repeat an entry)."""
    parts = index if isinstance(index, tuple) else (index,)
    for part in parts:
        if isinstance(part, (list, np.ndarray)) and np.asarray(part).dtype.kind in "iu":
            return True
    return False


class GetItem(Function):
    """``a[index]`` with ints, slices, None, Ellipsis, integer arrays or boolean masks.

    Repeated integer indices (``a[[0, 0]]``) send their gradients to the same entry, so the
    backward accumulates with ``np.add.at`` rather than assigning. Slices, ints and boolean
    masks select every entry at most once, so there a plain (much faster) assignment is exact.
    """

    @staticmethod
    def forward(ctx, a, index):
        ctx.shape, ctx.index = a.shape, index
        return np.asarray(a[index])

    @staticmethod
    def backward(ctx, grad):
        out = np.zeros(ctx.shape, dtype=grad.dtype)
        if _has_integer_array(ctx.index):
            np.add.at(out, ctx.index, grad)
        else:
            out[ctx.index] = grad
        return out, None


class Cat(Function):
    """Concatenate along ``dim``. Inputs are passed as separate positional arguments."""

    @staticmethod
    def forward(ctx, *arrays, dim):
        ctx.dim = dim
        ctx.sizes = [a.shape[dim] for a in arrays]
        return np.concatenate(arrays, axis=dim)

    @staticmethod
    def backward(ctx, grad):
        splits = np.cumsum(ctx.sizes)[:-1]
        parts = np.split(grad, splits, axis=ctx.dim)
        return tuple(p if need else None for p, need in zip(parts, ctx.needs_input_grad))


class Stack(Function):
    @staticmethod
    def forward(ctx, *arrays, dim):
        ctx.dim = dim
        return np.stack(arrays, axis=dim)

    @staticmethod
    def backward(ctx, grad):
        parts = np.moveaxis(grad, ctx.dim, 0)
        return tuple(p if need else None for p, need in zip(parts, ctx.needs_input_grad))
