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
from ..tensor import Tensor, raw
from . import checks


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
NUMBERS = (int, float, np.integer, np.floating, np.bool_)   # Python's bool is an int


def _operand(x, op, which):
    """A Tensor, a NumPy array or a number; anything else (a list, a string, None) is refused,
    as PyTorch's operators refuse it (NumPy would turn a list into an array of its own)."""
    if isinstance(x, (Tensor, np.ndarray)):
        if raw(x).dtype.kind not in "biuf":
            raise TypeError(f"{op}: the {which} operand has dtype {raw(x).dtype}, expected a "
                            f"number type")
        return x
    if isinstance(x, NUMBERS):
        return x
    raise TypeError(f"{op}: the {which} operand must be a Tensor, a NumPy array or a number, "
                    f"got {checks.describe(x)}")


def _check_broadcast(op, a, b):
    try:
        np.broadcast_shapes(np.shape(a), np.shape(b))
    except ValueError:
        raise ValueError(f"{op}: shapes {np.shape(a)} and {np.shape(b)} cannot be broadcast "
                         f"together (NumPy rules: trailing dimensions must be equal or 1)") from None


def _scalar_like(x, other):
    """A Python number beside a floating-point operand becomes an array of that operand's
    dtype (float32 stays float32); beside an integer or bool operand it stays a Python number,
    and NumPy's promotion decides (int + 2.5 is a float, as in PyTorch: never truncated)."""
    other_dtype = getattr(raw(other), "dtype", None)
    if (isinstance(x, (int, float)) and not isinstance(x, bool) and other_dtype is not None
            and other_dtype.kind == "f"):
        return np.asarray(x, dtype=other_dtype)
    return x


def _binary(function, name, a, b):
    a, b = _operand(a, name, "first"), _operand(b, name, "second")
    a, b = _scalar_like(a, b), _scalar_like(b, a)
    _check_broadcast(name, raw(a), raw(b))
    return function.apply(a, b)


def _unary(function, name, a, floating=False):
    """A unary op's input: a Tensor or an array (PyTorch's functions refuse numbers and lists);
    ``floating`` for the transcendental ones (exp, log, tanh, sigmoid: no integer versions),
    and never bool where NumPy has no meaning for it (neg, relu)."""
    array = checks.tensor_argument(a, name, "input", floating=floating)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{name}: input has dtype {array.dtype}, expected a number type")
    if array.dtype.kind == "b" and name in ("neg", "relu"):
        raise TypeError(f"{name}: input is a bool tensor, which {name} does not take (as in "
                        f"PyTorch); convert it with .astype(np.float32)")
    return function.apply(a)


def add(a, b): return _binary(Add, "add", a, b)
def mul(a, b): return _binary(Mul, "mul", a, b)
def div(a, b): return _binary(Div, "div", a, b)


def sub(a, b):
    a, b = _operand(a, "sub", "first"), _operand(b, "sub", "second")
    if all(np.asarray(raw(v)).dtype.kind == "b" for v in (a, b)):
        raise TypeError("sub: subtracting two bool operands is not supported (as in PyTorch): "
                        "use np.logical_xor on the arrays, or convert them to a number type")
    return _binary(Sub, "sub", a, b)


def neg(a): return _unary(Neg, "neg", a)
def exp(a): return _unary(Exp, "exp", a, floating=True)
def log(a): return _unary(Log, "log", a, floating=True)
def relu(a): return _unary(ReLU, "relu", a)
def tanh(a): return _unary(Tanh, "tanh", a, floating=True)
def sigmoid(a): return _unary(Sigmoid, "sigmoid", a, floating=True)
def abs(a): return _unary(Abs, "abs", a)  # noqa: A001 (PyTorch's name)


def pow(a, exponent):  # noqa: A001 (PyTorch's name)
    """``a ** exponent`` for a number ``exponent`` (a tensor exponent is not implemented)."""
    array = checks.tensor_argument(a, "pow", "input", floating=False)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"pow: input has dtype {array.dtype}, expected a number type")
    if not isinstance(exponent, NUMBERS):
        raise TypeError(f"pow: the exponent must be a number, got {checks.describe(exponent)} "
                        f"(a tensor exponent is not implemented)")
    if array.dtype.kind in "biu" and isinstance(exponent, (int, np.integer)) and exponent < 0:
        raise ValueError(f"pow: an integer input ({array.dtype}) to a negative integer exponent "
                         f"({exponent}) is not allowed (as in PyTorch and NumPy); use a float "
                         f"input")
    return Pow.apply(a, exponent)
