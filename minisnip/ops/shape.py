"""Shape ops: reshape, transpose/permute, indexing, cat, stack. No arithmetic, only moving."""
from __future__ import annotations

import numpy as np

from ..autograd import Function
from ..tensor import raw


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


# ------------------------------------------------------------ the functions: checks, then apply
def reshape(a, *shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    size = raw(a).size
    known = int(np.prod([s for s in shape if s != -1])) if shape else 1
    if (-1 not in shape and known != size) or (-1 in shape and (known == 0 or size % known)):
        raise ValueError(f"reshape: cannot reshape a tensor of shape {raw(a).shape} "
                         f"({size} elements) into {tuple(shape)}")
    return Reshape.apply(a, tuple(shape))


def flatten(a, start_dim=0, end_dim=-1):
    shape = raw(a).shape
    if not shape:
        return reshape(a, 1)
    start, end = start_dim % len(shape), end_dim % len(shape)
    return reshape(a, shape[:start] + (-1,) + shape[end + 1:])


def permute(a, *dims):
    if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
        dims = tuple(dims[0])
    ndim = raw(a).ndim
    if sorted(d % ndim for d in dims) != list(range(ndim)) or len(dims) != ndim:
        raise ValueError(f"permute: {dims} is not a permutation of the {ndim} axes of a tensor "
                         f"of shape {raw(a).shape}")
    return Permute.apply(a, tuple(d % ndim for d in dims))


def transpose(a, dim0, dim1):
    ndim = raw(a).ndim
    dims = list(range(ndim))
    for d in (dim0, dim1):
        if not -ndim <= d < ndim:
            raise ValueError(f"transpose: dim {d} out of range for shape {raw(a).shape}")
    dims[dim0], dims[dim1] = dims[dim1], dims[dim0]
    return Permute.apply(a, tuple(dims))


def getitem(a, index):
    index = raw(index) if not isinstance(index, tuple) else tuple(raw(i) for i in index)
    try:
        raw(a)[index]
    except IndexError as error:
        raise IndexError(f"getitem: index {index!r} does not fit a tensor of shape "
                         f"{raw(a).shape}: {error}") from None
    return GetItem.apply(a, index)


def cat(tensors, dim=0):
    tensors = list(tensors)
    if not tensors:
        raise ValueError("cat: expected a non-empty list of tensors")
    shapes = [raw(t).shape for t in tensors]
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
    shapes = [raw(t).shape for t in tensors]
    if any(s != shapes[0] for s in shapes):
        raise ValueError(f"stack: all tensors must have the same shape, got {shapes}")
    return Stack.apply(*tensors, dim=dim % (len(shapes[0]) + 1))
