"""Gradient checks with hypothesis-drawn shapes: broadcasting pairs and non-contiguous
(transposed, sliced) inputs for the elementwise, reduction, shape and product ops."""
import numpy as np
from hypothesis import given, strategies as st

from minisnip import functional as F, ops
from minisnip.gradcheck import gradcheck

from .strategies import arrays, broadcast_pair, shapes

BINARY = {"add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
          "div": lambda a, b: a / b}
UNARY = {"exp": lambda a: a.exp(), "tanh": lambda a: a.tanh(), "sigmoid": lambda a: a.sigmoid(),
         "neg": lambda a: -a, "square": lambda a: a ** 2, "log": lambda a: (a * a + 1).log()}


@given(pair=broadcast_pair(), op=st.sampled_from(sorted(BINARY)), data=st.data())
def test_binary_ops_with_broadcasting(pair, op, data):
    a = data.draw(arrays(pair[0]))
    b = data.draw(arrays(pair[1], low=0.5, high=2.0))  # away from 0 for division
    assert gradcheck(BINARY[op], [a, b])


@given(shape=shapes(), op=st.sampled_from(sorted(UNARY)), data=st.data())
def test_unary_ops_on_any_layout(shape, op, data):
    assert gradcheck(UNARY[op], [data.draw(arrays(shape))])


@given(shape=shapes(min_dims=2, max_dims=3), data=st.data(), keepdim=st.booleans())
def test_reductions_over_drawn_axes(shape, data, keepdim):
    x = data.draw(arrays(shape))
    dim = data.draw(st.sampled_from([None, 0, -1, (0, len(shape) - 1)]))
    assert gradcheck(lambda t: t.sum(dim=dim, keepdim=keepdim), [x])
    assert gradcheck(lambda t: t.mean(dim=dim, keepdim=keepdim), [x])


@given(m=st.integers(1, 5), k=st.integers(1, 5), n=st.integers(1, 5), data=st.data())
def test_matmul_and_linear_on_any_layout(m, k, n, data):
    a, b = data.draw(arrays((m, k))), data.draw(arrays((k, n)))
    assert gradcheck(lambda x, y: x @ y, [a, b])
    w, bias = data.draw(arrays((n, k))), data.draw(arrays((n,)))
    assert gradcheck(lambda x, w, b: F.linear(x, w, b), [a, w, bias])


@given(shape=shapes(min_dims=2, max_dims=3), data=st.data())
def test_shape_ops(shape, data):
    x = data.draw(arrays(shape))
    assert gradcheck(lambda t: t.permute(*reversed(range(len(shape)))) * 2, [x])
    assert gradcheck(lambda t: t.reshape(-1) * t.reshape(-1), [x])
    assert gradcheck(lambda t: ops.cat([t, t * 3], dim=-1), [x])
    assert gradcheck(lambda t: t[..., ::2], [x])


@given(n=st.integers(1, 6), c=st.integers(2, 5), data=st.data())
def test_cross_entropy_on_drawn_batches(n, c, data):
    logits = data.draw(arrays((n, c), low=-5, high=5))
    targets = np.array(data.draw(st.lists(st.integers(0, c - 1), min_size=n, max_size=n)))
    assert gradcheck(lambda z: F.cross_entropy(z, targets), [logits])
