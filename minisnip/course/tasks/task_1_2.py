"""Task 1.2: the backward of Mul, Div, Log and Tanh, each checked against finite
differences (the op's backward is called directly: no graph walk is needed)."""
import numpy as np
import pytest

from minisnip.course.testing import assert_close, numeric_vjp, vjp
from minisnip.ops.elementwise import Div, Log, Mul, Tanh

rng = np.random.default_rng(0)


@pytest.mark.parametrize("op,f", [(Mul, np.multiply), (Div, np.divide)])
def test_binary_ops_same_shape(op, f):
    a, b = rng.standard_normal((3, 4)), rng.uniform(0.5, 2.0, (3, 4))
    grad = rng.standard_normal((3, 4))
    _, (ga, gb) = vjp(op, [a, b], grad)
    na, nb = numeric_vjp(f, [a, b], grad)
    assert_close(ga, na, f"{op.__name__}: dL/da", rtol=1e-5)
    assert_close(gb, nb, f"{op.__name__}: dL/db", rtol=1e-5)


@pytest.mark.parametrize("op,f", [(Mul, np.multiply), (Div, np.divide)])
def test_binary_ops_broadcast(op, f):
    a, b = rng.standard_normal((2, 3, 1)), rng.uniform(0.5, 2.0, (3, 4))
    grad = rng.standard_normal((2, 3, 4))
    _, (ga, gb) = vjp(op, [a, b], grad)
    na, nb = numeric_vjp(f, [a, b], grad)
    assert_close(ga, na, f"{op.__name__}: dL/da, a broadcast", rtol=1e-5)
    assert_close(gb, nb, f"{op.__name__}: dL/db, b broadcast", rtol=1e-5)


@pytest.mark.parametrize("op,f,low", [(Log, np.log, 0.2), (Tanh, np.tanh, -2.0)])
def test_unary_ops(op, f, low):
    a = rng.uniform(low, 2.0, (4, 3))
    grad = rng.standard_normal((4, 3))
    _, (ga,) = vjp(op, [a], grad)
    assert_close(ga, numeric_vjp(f, [a], grad)[0], f"{op.__name__}: dL/da", rtol=1e-5)


def test_a_constant_input_gets_no_gradient():
    from minisnip.autograd import Context
    ctx = Context((True, False))
    a, b = rng.standard_normal(3), rng.standard_normal(3)
    Mul.forward(ctx, a, b)
    ga, gb = Mul.backward(ctx, np.ones(3))
    assert gb is None and ga is not None
