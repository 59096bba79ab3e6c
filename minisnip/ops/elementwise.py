"""Elementwise ops with NumPy broadcasting: + - * / neg, ** scalar, exp, log, relu, tanh, sigmoid.

Elementwise work stays in NumPy: each of these is one vectorized ufunc call, memory-bound,
and a Numba kernel would not beat it (see benchmarks/). Broadcasting is undone in backward by
``autograd.unbroadcast`` and nowhere else.
"""
from __future__ import annotations

import numpy as np

from ..autograd import Function, unbroadcast


class Add(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = (np.shape(a), np.shape(b))
        return np.add(a, b)

    @staticmethod
    def backward(ctx, grad):
        shape_a, shape_b = ctx.shapes
        ga = unbroadcast(grad, shape_a) if ctx.needs_input_grad[0] else None
        gb = unbroadcast(grad, shape_b) if ctx.needs_input_grad[1] else None
        return ga, gb


class Mul(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.multiply(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved
        ga = unbroadcast(grad * b, np.shape(a)) if ctx.needs_input_grad[0] else None
        gb = unbroadcast(grad * a, np.shape(b)) if ctx.needs_input_grad[1] else None
        return ga, gb


class Sub(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = (np.shape(a), np.shape(b))
        return np.subtract(a, b)

    @staticmethod
    def backward(ctx, grad):
        shape_a, shape_b = ctx.shapes
        ga = unbroadcast(grad, shape_a) if ctx.needs_input_grad[0] else None
        gb = unbroadcast(-grad, shape_b) if ctx.needs_input_grad[1] else None
        return ga, gb


class Div(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.divide(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved
        ga = unbroadcast(grad / b, np.shape(a)) if ctx.needs_input_grad[0] else None
        gb = unbroadcast(-grad * a / (b * b), np.shape(b)) if ctx.needs_input_grad[1] else None
        return ga, gb


class Neg(Function):
    @staticmethod
    def forward(ctx, a):
        return np.negative(a)

    @staticmethod
    def backward(ctx, grad):
        return (-grad,)


class Pow(Function):
    """``a ** p`` for a scalar exponent ``p`` (not differentiated).

    A NumPy scalar exponent (``np.float64(2.0)``) is turned into a Python number first: under
    NumPy 2's promotion rules a float64 scalar would upcast a float32 ``a`` to float64.
    """

    @staticmethod
    def forward(ctx, a, exponent):
        if isinstance(exponent, np.generic):
            exponent = exponent.item()
        ctx.save_for_backward(a)
        ctx.exponent = exponent
        return np.power(a, exponent)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved
        p = ctx.exponent
        return grad * (p * np.power(a, p - 1)), None


class Exp(Function):
    @staticmethod
    def forward(ctx, a):
        out = np.exp(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved
        return (grad * out,)


class Log(Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return np.log(a)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved
        return (grad / a,)


class ReLU(Function):
    """max(x, 0); the gradient at exactly 0 is taken as 0 (as in PyTorch)."""

    @staticmethod
    def forward(ctx, a):
        out = np.maximum(a, 0)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved
        return (grad * (out > 0),)


class Tanh(Function):
    @staticmethod
    def forward(ctx, a):
        out = np.tanh(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved
        return (grad * (1 - out * out),)


def stable_sigmoid(a: np.ndarray) -> np.ndarray:
    """1 / (1 + exp(-a)) without overflow for large |a| (shared by ops and kernels' oracles)."""
    e = np.exp(-np.abs(a))
    return np.where(a >= 0, 1 / (1 + e), e / (1 + e)).astype(a.dtype, copy=False)


class Sigmoid(Function):
    @staticmethod
    def forward(ctx, a):
        out = stable_sigmoid(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved
        return (grad * out * (1 - out),)


class Abs(Function):
    """|x|; the gradient at 0 is taken as 0 (sign(0) = 0)."""

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return np.abs(a)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved
        return (grad * np.sign(a),)
