"""A Linear layer computed from its kept connections only (kernels/sparse.py)."""
from __future__ import annotations

import numpy as np

from ..autograd import Function
from ..kernels import sparse as kernel
from ..tensor import raw
from . import checks


class SparseLinear(Function):
    """``x (c * W)^T + b`` for a binary mask c given as a fixed sparsity pattern. Equal to
    ``linear(x, c * w, b)``; the gradient of W is nonzero only at kept connections (which is
    also what the dense path gives, since d(c*w)/dw = c)."""

    @staticmethod
    def forward(ctx, x, weight, bias, pattern):
        row_ptr, row_cols = pattern[0], pattern[1]
        x2 = x.reshape(-1, x.shape[-1])
        x_t = np.ascontiguousarray(x2.T)
        values = kernel.gather(weight, row_ptr, row_cols)
        out = kernel.forward_t(x_t, values, row_ptr, row_cols).T
        if bias is not None:
            out = out + bias
        ctx.save_for_backward(x_t, values)
        ctx.pattern, ctx.x_shape, ctx.w_shape = pattern, x.shape, weight.shape
        return np.ascontiguousarray(out).reshape(x.shape[:-1] + (weight.shape[0],))

    @staticmethod
    def backward(ctx, grad):
        x_t, values = ctx.saved
        row_ptr, row_cols, col_ptr, col_rows, col_pos = ctx.pattern
        g_t = np.ascontiguousarray(grad.reshape(-1, grad.shape[-1]).T)
        needs = ctx.needs_input_grad
        gx = gw = gb = None
        if needs[0]:
            gx = np.ascontiguousarray(
                kernel.input_grad_t(g_t, values, col_ptr, col_rows, col_pos).T).reshape(ctx.x_shape)
        if needs[1]:
            gw = kernel.weight_grad(g_t, x_t, row_ptr, row_cols, *ctx.w_shape)
        if needs[2]:
            gb = g_t.sum(axis=1)
        return gx, gw, gb, None


# ------------------------------------------------------------ the functions: checks, then apply
def sparse_linear(x, weight, bias, pattern):
    """``x (c * W)^T + b`` with c given by ``pattern`` (``kernels.sparse.pattern_from_mask``)."""
    sx = checks.tensor_argument(x, "sparse_linear", "input").shape
    sw = checks.tensor_argument(weight, "sparse_linear", "weight").shape
    if bias is not None:
        checks.tensor_argument(bias, "sparse_linear", "bias")
    if len(sw) != 2:
        raise ValueError(f"sparse_linear: weight must be 2-D (out_features, in_features), got {sw}")
    if not sx or sx[-1] != sw[1]:
        raise ValueError(f"sparse_linear: input of shape {sx} does not fit weight of shape {sw}: "
                         f"the input's last dimension must be in_features = {sw[1]}")
    if bias is not None and raw(bias).shape != (sw[0],):
        raise ValueError(f"sparse_linear: bias of shape {raw(bias).shape}, expected ({sw[0]},)")
    if len(pattern) != 5 or len(pattern[0]) != sw[0] + 1 or len(pattern[2]) != sw[1] + 1:
        raise ValueError(f"sparse_linear: the pattern does not describe a {sw} weight (make it "
                         f"with kernels.sparse.pattern_from_mask(mask))")
    return SparseLinear.apply(x, weight, bias, pattern)
