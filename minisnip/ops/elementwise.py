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
