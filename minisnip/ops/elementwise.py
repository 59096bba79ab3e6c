"""Elementwise ops with NumPy broadcasting: + - * / neg, ** scalar, exp, log, relu, tanh, sigmoid.

Elementwise work stays in NumPy: each of these is one vectorized ufunc call, memory-bound,
and a Numba kernel would not beat it (see benchmarks/). The sigmoid's overflow-free form is
written in ``kernels/activations.py``, beside the scalar form the fused LSTM/GRU cells use.
Broadcasting is undone in backward by ``autograd.unbroadcast`` and
nowhere else.
"""
from __future__ import annotations

import numpy as np

from ..autograd import Function, unbroadcast
from ..kernels.activations import sigmoid_array
from ..tensor import raw


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
        if p == 0:               # a ** 0 is 1 everywhere: its derivative is 0, also at a = 0
            return np.zeros_like(grad), None
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


class Sigmoid(Function):
    """The overflow-free sigmoid of kernels/activations.py (the one the LSTM/GRU cells use)."""

    @staticmethod
    def forward(ctx, a):
        out = sigmoid_array(a)
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


# ------------------------------------------------------------ the functions: checks, then apply
def _check_broadcast(op, a, b):
    try:
        np.broadcast_shapes(np.shape(a), np.shape(b))
    except ValueError:
        raise ValueError(f"{op}: shapes {np.shape(a)} and {np.shape(b)} cannot be broadcast "
                         f"together (NumPy rules: trailing dimensions must be equal or 1)") from None


def _scalar_like(x, other):
    """A Python scalar becomes an array of the other operand's dtype (float32 stays float32)."""
    if isinstance(x, (int, float)) and not isinstance(x, bool):
        dtype = raw(other).dtype if hasattr(raw(other), "dtype") else np.float32
        return np.asarray(x, dtype=dtype)
    return x


def _binary(function, name, a, b):
    a, b = _scalar_like(a, b), _scalar_like(b, a)
    _check_broadcast(name, raw(a), raw(b))
    return function.apply(a, b)


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
