"""Layers computed from their kept connections only (kernels/sparse.py): a Linear layer
(``SparseLinear``, ``sparse_linear``) and a convolution (``sparse_conv2d``: the ``Conv2d``
Function of ops/conv.py given the pattern)."""
from __future__ import annotations

import numpy as np

from ..autograd import Function
from ..kernels import sparse as kernel
from . import checks
from .conv import Conv2d, conv2d_arguments


class SparseLinear(Function):
    """``x (c * W)^T + b`` for a binary mask c given as a fixed sparsity pattern. Equal to
    ``linear(x, c * w, b)``; the gradient of W is nonzero only at kept connections (which is
    also what the dense path gives, since d(c*w)/dw = c). The output is column-major
    (a transposed view of the kernel's (out, B) result): the next sparse layer reads it
    without a copy."""

    @staticmethod
    def forward(ctx, x, weight, bias, pattern, columns=None):
        row_ptr, row_cols = pattern[0], pattern[1]
        dtype = np.result_type(x.dtype, weight.dtype)  # what the dense products give
        x2 = x.reshape(-1, x.shape[-1]).astype(dtype, copy=False)  # (keeps the layout)
        if columns is not None and not x2.T.flags.c_contiguous:
            used, x_rows = columns       # transpose only the columns a connection reads
            x_t = x2.T[used]
        else:
            x_rows = row_cols            # free for a column-major x, else one copy of x
            x_t = _batch_inner(x2)
        values = kernel.gather(weight, row_ptr, row_cols).astype(dtype, copy=False)
        out = kernel.forward_t(x_t, values, row_ptr, x_rows).T  # a view, batch-inner
        if bias is not None:
            out += bias  # in out's dtype and layout, as the dense linear adds it
        ctx.save_for_backward(x_t, values, x_rows)
        ctx.pattern, ctx.x_shape, ctx.w_shape = pattern, x.shape, weight.shape
        return out.reshape(x.shape[:-1] + (weight.shape[0],))

    @staticmethod
    def backward(ctx, grad):
        x_t, values, x_rows = ctx.saved
        row_ptr, row_cols, col_ptr, col_rows, col_pos = ctx.pattern
        g_t = _batch_inner(grad.reshape(-1, grad.shape[-1]))
        needs = ctx.needs_input_grad
        gx = gw = gb = None
        if needs[0]:
            gx = kernel.input_grad_t(g_t, values, col_ptr, col_rows, col_pos).T.reshape(
                ctx.x_shape)
        if needs[1]:
            gw = kernel.weight_grad(g_t, x_t, row_ptr, row_cols, x_rows, *ctx.w_shape)
        if needs[2]:
            gb = g_t.sum(axis=1)
        return gx, gw, gb, None


def _batch_inner(a2: np.ndarray) -> np.ndarray:
    """(features, B) C-contiguous from a (B, features) array: the kernels' layout, where each
    inner loop runs over the batch. Free (a transposed view) when ``a2`` is column-major,
    which is what this op returns: a chain of sparse layers (with elementwise ops between
    them, which keep the layout) passes its activations and gradients without copying."""
    return a2.T if a2.T.flags.c_contiguous else np.ascontiguousarray(a2.T)


# ------------------------------------------------------------ the functions: checks, then apply
def sparse_linear(x, weight, bias, pattern, columns=None):
    """``x (c * W)^T + b`` with c given by ``pattern`` (``kernels.sparse.pattern_from_mask``);
    ``columns``, optional, ``kernels.sparse.compact_columns`` of the pattern: x is then
    transposed only at the columns some connection reads."""
    sw = checks.linear_arguments(x, weight, bias, "sparse_linear")
    check_pattern(pattern, sw[0], sw[1], "sparse_linear", sw)
    if columns is not None and (len(columns) != 2 or len(columns[1]) != len(pattern[1]) or (
            len(columns[1]) and (columns[1].max() >= len(columns[0])
                                 or columns[0][-1] >= sw[1]
                                 or np.any(columns[0][columns[1]] != pattern[1])))):
        raise ValueError("sparse_linear: columns do not belong to the pattern (make them with "
                         "kernels.sparse.compact_columns(pattern[1], in_features))")
    return SparseLinear.apply(x, weight, bias, pattern, columns=columns)


def sparse_conv2d(x, weight, bias, pattern, stride=1, padding=0):
    """``conv2d(x, c * W, b)`` computed from the kept connections only, c given by ``pattern``
    (``kernels.sparse.pattern_from_mask(c)``): W's entries outside the pattern are never
    read, and their gradient is 0."""
    stride, padding = conv2d_arguments(x, weight, bias, stride, padding, "sparse_conv2d")
    sw = tuple(weight.shape)
    check_pattern(pattern, sw[0], sw[1] * sw[2] * sw[3], "sparse_conv2d", sw)
    return Conv2d.apply(x, weight, bias, stride, padding, pattern)


def check_pattern(pattern, rows: int, cols: int, op: str, weight_shape) -> None:
    """That ``pattern`` is a pattern of a weight of ``rows`` outputs and ``cols`` inputs per
    output, its five arrays of consistent lengths (O(1): the indices themselves are
    ``pattern_from_mask``'s, not checked again every step)."""
    ok = len(pattern) == 5
    if ok:
        row_ptr, row_cols, col_ptr, col_rows, col_pos = pattern
        ok = (len(row_ptr) == rows + 1 and len(col_ptr) == cols + 1
              and row_ptr[-1] == col_ptr[-1] == len(row_cols) == len(col_rows) == len(col_pos))
    if not ok:
        raise ValueError(f"{op}: the pattern does not describe a {tuple(weight_shape)} weight "
                         f"(make it with kernels.sparse.pattern_from_mask(mask) of its mask)")
