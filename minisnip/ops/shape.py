"""Shape ops: reshape, transpose/permute, indexing, cat, stack. No arithmetic, only moving."""
from __future__ import annotations

import builtins

import numpy as np

from ..autograd import Function
from ..tensor import raw
from . import checks


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
def _axis(d, ndim, op, name="dim"):
    """An axis ``d`` of a tensor with ``ndim`` dimensions (negatives count from the end), as a
    non-negative int; an int out of range is refused, never wrapped around. A 0-d tensor
    takes 0 and -1, as in PyTorch."""
    d = checks.integer(d, op, name)
    if not -builtins.max(ndim, 1) <= d < builtins.max(ndim, 1):
        raise ValueError(f"{op}: {name} {d} is out of range for a tensor with {ndim} "
                         f"dimensions (expected -{builtins.max(ndim, 1)} <= {name} < "
                         f"{builtins.max(ndim, 1)})")
    return d % builtins.max(ndim, 1)


def _dims_argument(dims, op, name):
    """``f(a, 2, 0, 1)`` or ``f(a, (2, 0, 1))``, as PyTorch takes both."""
    if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
        return tuple(dims[0])
    return tuple(dims)


def reshape(a, *shape):
    size = checks.tensor_argument(a, "reshape", "input", floating=False).size
    shape = _dims_argument(shape, "reshape", "shape")
    if any(isinstance(s, (bool, np.bool_)) or not isinstance(s, (int, np.integer))
           for s in shape):
        raise TypeError(f"reshape: shape must be ints (and at most one -1, the size to infer), "
                        f"got {shape!r}")
    if any(s < -1 for s in shape):
        raise ValueError(f"reshape: shape {shape} has a negative size other than -1")
    if list(shape).count(-1) > 1:
        raise ValueError(f"reshape: shape {shape} has more than one -1 (only one size can be "
                         f"inferred)")
    known = int(np.prod([s for s in shape if s != -1])) if shape else 1
    if (-1 not in shape and known != size) or (-1 in shape and (known == 0 or size % known)):
        raise ValueError(f"reshape: cannot reshape a tensor of shape {raw(a).shape} "
                         f"({size} elements) into {tuple(shape)}")
    return Reshape.apply(a, tuple(int(s) for s in shape))


def flatten(a, start_dim=0, end_dim=-1):
    """Merge the axes start_dim..end_dim (both included) into one, as ``torch.flatten``."""
    shape = checks.tensor_argument(a, "flatten", "input", floating=False).shape
    start = _axis(start_dim, len(shape), "flatten", "start_dim")
    end = _axis(end_dim, len(shape), "flatten", "end_dim")
    if start > end:
        raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim} for a "
                         f"tensor of shape {shape}")
    if not shape:
        return reshape(a, 1)
    return reshape(a, shape[:start] + (-1,) + shape[end + 1:])


def permute(a, *dims):
    ndim = checks.tensor_argument(a, "permute", "input", floating=False).ndim
    dims = _dims_argument(dims, "permute", "dims")
    axes = tuple(_axis(d, ndim, "permute", "dims") for d in dims)
    if sorted(axes) != list(range(ndim)):
        raise ValueError(f"permute: dims {dims} is not a permutation of the {ndim} axes of a "
                         f"tensor of shape {raw(a).shape}")
    return Permute.apply(a, axes)


def transpose(a, dim0, dim1):
    ndim = checks.tensor_argument(a, "transpose", "input", floating=False).ndim
    dims = list(range(ndim))
    d0, d1 = _axis(dim0, ndim, "transpose", "dim0"), _axis(dim1, ndim, "transpose", "dim1")
    if ndim:
        dims[d0], dims[d1] = dims[d1], dims[d0]
    return Permute.apply(a, tuple(dims))


def getitem(a, index):
    array = checks.tensor_argument(a, "getitem", "input", floating=False)
    index = raw(index) if not isinstance(index, tuple) else tuple(raw(i) for i in index)
    try:
        array[index]
    except IndexError as error:
        raise IndexError(f"getitem: index {index!r} does not fit a tensor of shape "
                         f"{array.shape}: {error}") from None
    return GetItem.apply(a, index)


def _pieces(tensors, op):
    """The list of tensors of cat/stack: a list or tuple (PyTorch's rule: a Tensor is not a
    sequence of its rows here) of Tensors or arrays, not empty."""
    if not isinstance(tensors, (list, tuple)):
        raise TypeError(f"{op}: tensors must be a list or tuple of Tensors, got "
                        f"{checks.describe(tensors)}")
    if not tensors:
        raise ValueError(f"{op}: expected a non-empty list of tensors")
    for i, t in enumerate(tensors):
        checks.tensor_argument(t, op, f"tensors[{i}]", floating=False)
    return list(tensors)


def cat(tensors, dim=0):
    tensors = _pieces(tensors, "cat")
    shapes = [raw(t).shape for t in tensors]
    ndim = len(shapes[0])
    if ndim == 0:
        raise ValueError("cat: 0-d tensors cannot be concatenated (stack them instead)")
    d = _axis(dim, ndim, "cat")
    for s in shapes:
        if len(s) != ndim or s[:d] + s[d + 1:] != shapes[0][:d] + shapes[0][d + 1:]:
            raise ValueError(f"cat: all shapes must match except along dim {dim}, got {shapes}")
    return Cat.apply(*tensors, dim=d)


def stack(tensors, dim=0):
    tensors = _pieces(tensors, "stack")
    shapes = [raw(t).shape for t in tensors]
    if any(s != shapes[0] for s in shapes):
        raise ValueError(f"stack: all tensors must have the same shape, got {shapes}")
    return Stack.apply(*tensors, dim=_axis(dim, len(shapes[0]) + 1, "stack"))
