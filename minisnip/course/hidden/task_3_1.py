"""Task 3.1, instructor's tests: random shapes including the edges of the tiles."""
import numpy as np
from hypothesis import given, settings, strategies as st

from minisnip.kernels import reference
from minisnip.kernels.matmul import dot_tiles


@settings(max_examples=25, deadline=None)
@given(m=st.integers(1, 13), n=st.integers(1, 13), k=st.integers(128, 260),
       block=st.sampled_from([4, 8, 64]), seed=st.integers(0, 2 ** 31))
def test_random_shapes(m, n, k, block, seed):
    rng = np.random.default_rng(seed)
    a, bt = rng.standard_normal((m, k)), rng.standard_normal((n, k))
    np.testing.assert_allclose(dot_tiles(a, bt, block), reference.dot_tiles(a, bt, block),
                               rtol=1e-10, atol=1e-10)


def test_the_output_is_a_new_array():
    a, bt = np.ones((4, 128)), np.ones((4, 128))
    c = dot_tiles(a, bt, 4)
    c[...] = 0
    assert np.all(dot_tiles(a, bt, 4) == 128)
