"""Task 1.1, instructor's tests: random broadcast pairs against a brute-force count."""
import numpy as np
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

from minisnip.autograd import unbroadcast


@settings(max_examples=60, deadline=None)
@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4,
                                                min_side=1, max_side=4),
       seed=st.integers(0, 2 ** 31))
def test_unbroadcast_is_the_adjoint_of_broadcasting(shapes, seed):
    """<unbroadcast(g), x> == <g, broadcast(x)> for all x, g: the defining property."""
    rng = np.random.default_rng(seed)
    shape = shapes.input_shapes[0]
    big = shapes.result_shape
    g = rng.standard_normal(big)
    x = rng.standard_normal(shape)
    out = unbroadcast(g, shape)
    assert np.shape(out) == tuple(shape)
    np.testing.assert_allclose(np.sum(out * x), np.sum(g * np.broadcast_to(x, big)),
                               rtol=1e-10, atol=1e-10)


def test_float32_stays_float32():
    out = unbroadcast(np.ones((3, 4), np.float32), (1, 4))
    assert out.dtype == np.float32
