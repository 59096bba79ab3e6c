"""Task 1.2, instructor's tests: dtypes, and the ops inside a whole graph."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

from minisnip.course.testing import numeric_vjp, vjp
from minisnip.ops.elementwise import Div, Log, Mul, Tanh


@pytest.mark.parametrize("op", [Mul, Div])
def test_float32_gradients_stay_float32(op):
    a = np.random.default_rng(1).uniform(0.5, 2, (3, 1)).astype(np.float32)
    b = np.random.default_rng(2).uniform(0.5, 2, (4,)).astype(np.float32)
    _, grads = vjp(op, [a, b], np.ones((3, 4), np.float32))
    assert all(g.dtype == np.float32 for g in grads)
    assert grads[0].shape == (3, 1) and grads[1].shape == (4,)


@pytest.mark.parametrize("op", [Log, Tanh])
def test_unary_float32(op):
    a = np.random.default_rng(3).uniform(0.5, 2, (5,)).astype(np.float32)
    _, (g,) = vjp(op, [a], np.ones(5, np.float32))
    assert g.dtype == np.float32 and g.shape == (5,)


@settings(max_examples=30, deadline=None)
@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=1, max_dims=3,
                                                min_side=1, max_side=3),
       op=st.sampled_from([Mul, Div]), seed=st.integers(0, 2 ** 31))
def test_any_broadcast_pair_against_finite_differences(shapes, op, seed):
    rng = np.random.default_rng(seed)
    a = rng.uniform(0.5, 2.0, shapes.input_shapes[0])
    b = rng.uniform(0.5, 2.0, shapes.input_shapes[1])
    grad = rng.standard_normal(shapes.result_shape)
    _, grads = vjp(op, [a, b], grad)
    f = np.multiply if op is Mul else np.divide
    for got, want in zip(grads, numeric_vjp(f, [a, b], grad)):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-7)
