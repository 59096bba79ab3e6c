"""Task 1.3, instructor's tests: dtypes and random axes."""
import numpy as np
from hypothesis import given, settings, strategies as st

from minisnip.course.testing import numeric_vjp, vjp
from minisnip.ops.reduction import Mean, Sum


@settings(max_examples=40, deadline=None)
@given(ndim=st.integers(1, 4), data=st.data())
def test_random_axes(ndim, data):
    shape = tuple(data.draw(st.lists(st.integers(1, 3), min_size=ndim, max_size=ndim)))
    axes = tuple(sorted(data.draw(st.sets(st.integers(0, ndim - 1), min_size=1))))
    keepdim = data.draw(st.booleans())
    op, f = data.draw(st.sampled_from([(Sum, np.sum), (Mean, np.mean)]))
    rng = np.random.default_rng(data.draw(st.integers(0, 2 ** 31)))
    x = rng.standard_normal(shape)
    grad = rng.standard_normal(f(x, axis=axes, keepdims=keepdim).shape)
    _, grads = vjp(op, [x, axes, keepdim], grad)
    want = numeric_vjp(lambda x: f(x, axis=axes, keepdims=keepdim), [x], grad)[0]
    np.testing.assert_allclose(grads[0], want, rtol=1e-6, atol=1e-8)


def test_float32_mean_stays_float32():
    _, grads = vjp(Mean, [np.ones((4, 3), np.float32), (0,), False], np.ones(3, np.float32))
    assert grads[0].dtype == np.float32
