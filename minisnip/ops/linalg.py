"""Matrix products: matmul (1-D, 2-D, batched with broadcasting) and the fused linear layer.

Every product of every op, forward and backward (also those inside the convolution and the
LSTM/GRU kernels), runs on :func:`products`: the one place where the Numba kernels of
``kernels/matmul.py`` or NumPy's BLAS are chosen, as ``minisnip.config.get_matmul_backend()``
says. Transposes are passed as views: the Numba kernel takes any strides.
"""
from __future__ import annotations

import numpy as np

from .. import config
from ..autograd import Function, unbroadcast
from ..kernels.matmul import NUMBA, Products
from . import checks


class _BlasRightOperand:
    """B laid out once for many ``a @ B`` under the BLAS backend: just B, C-contiguous."""

    def __init__(self, b: np.ndarray):
        self.b = np.ascontiguousarray(b)

    def left_multiply(self, a: np.ndarray) -> np.ndarray:
        return a @ self.b


BLAS = Products(matmul=np.matmul, right_operand=_BlasRightOperand)


def products() -> Products:
    """The matrix products the ops compute with: ``kernels.matmul.NUMBA`` (the default) or
    ``BLAS`` (NumPy's ``@``), chosen by ``minisnip.config.set_matmul_backend`` or
    ``MINISNIP_MATMUL``. Ops pass the result to the kernels that multiply matrices."""
    return BLAS if config.get_matmul_backend() == "blas" else NUMBA


def mm(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """2-D product ``a @ b`` on the chosen backend."""
    return products().matmul(a, b)


def batched_mm(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a @ b`` for arrays of ndim >= 2 with NumPy's broadcasting of the batch axes."""
    if a.ndim == 2 and b.ndim == 2:
        return mm(a, b)
    batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    a_b = np.broadcast_to(a, batch + a.shape[-2:])
    b_b = np.broadcast_to(b, batch + b.shape[-2:])
    out = np.empty(batch + (a.shape[-2], b.shape[-1]), dtype=np.result_type(a, b))
    for idx in np.ndindex(*batch):
        out[idx] = mm(a_b[idx], b_b[idx])
    return out


class MatMul(Function):
    """``a @ b`` with NumPy's rules: 1-D operands are promoted (and the axis removed after)."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        out = batched_mm(a2, b2)
        if a.ndim == 1:
            out = out[..., 0, :]
        if b.ndim == 1:
            out = out[..., 0]
        return out

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        g = grad                 # give back the axes the forward removed, last removed first
        if b.ndim == 1:
            g = g[..., None]
        if a.ndim == 1:
            g = g[..., None, :]
        ga = gb = None
        if ctx.needs_input_grad[0]:
            ga = unbroadcast(batched_mm(g, np.swapaxes(b2, -1, -2)), a2.shape).reshape(a.shape)
        if ctx.needs_input_grad[1]:
            gb = unbroadcast(batched_mm(np.swapaxes(a2, -1, -2), g), b2.shape).reshape(b.shape)
        return ga, gb


class Linear(Function):
    """``y = x @ W^T + b`` with ``W`` of shape (out, in) as in PyTorch: one Function, so the
    layer costs one node in the graph. ``x`` may have leading batch axes (..., in)."""

    @staticmethod
    def forward(ctx, x, weight, bias=None):
        ctx.save_for_backward(x, weight)
        x2 = x.reshape(-1, x.shape[-1])
        out = mm(x2, weight.T)
        if bias is not None:
            out += bias
        return out.reshape(x.shape[:-1] + (weight.shape[0],))

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved
        g2 = grad.reshape(-1, grad.shape[-1])
        gx = gw = gb = None
        if ctx.needs_input_grad[0]:
            gx = mm(g2, weight).reshape(x.shape)
        if ctx.needs_input_grad[1]:
            gw = mm(g2.T, x.reshape(-1, x.shape[-1]))
        if len(ctx.needs_input_grad) > 2 and ctx.needs_input_grad[2]:
            gb = g2.sum(axis=0)
        return gx, gw, gb


# ------------------------------------------------------------ the functions: checks, then apply
def _product_operand(x, op, which):
    """A Tensor or an array of a type the product kernels take: float32, float64 or an integer
    type (computed in float64)."""
    array = checks.tensor_argument(x, op, which, floating=False)
    if array.dtype.kind not in "iu" and array.dtype not in checks.FLOATS:
        raise TypeError(f"{op}: {which} has dtype {array.dtype}, expected float32, float64 or "
                        f"an integer type")
    return array


def matmul(a, b):
    """``a @ b`` with NumPy's (and PyTorch's) rules for 1-D, 2-D and batched operands."""
    sa = _product_operand(a, "matmul", "the first operand").shape
    sb = _product_operand(b, "matmul", "the second operand").shape
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
        raise ValueError(f"matmul: the batch dimensions of shapes {sa} and {sb} cannot be "
                         f"broadcast") from None
    return MatMul.apply(a, b)


def linear(x, weight, bias=None):
    """``x @ weight.T + bias`` with ``weight`` of shape (out_features, in_features)."""
    checks.linear_arguments(x, weight, bias, "linear")
    return Linear.apply(x, weight, bias)
