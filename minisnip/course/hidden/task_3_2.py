"""Task 3.2, instructor's tests: random geometry, float64, non-contiguous input."""
import numpy as np
from hypothesis import given, settings, strategies as st

from minisnip.kernels import reference
from minisnip.kernels.conv import im2col


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 3), c=st.integers(1, 3), h=st.integers(3, 8), w=st.integers(3, 8),
       kh=st.integers(1, 3), kw=st.integers(1, 3), stride=st.integers(1, 3),
       padding=st.integers(0, 2), seed=st.integers(0, 2 ** 31))
def test_random_geometry(n, c, h, w, kh, kw, stride, padding, seed):
    x = np.random.default_rng(seed).standard_normal((n, c, h, w))
    np.testing.assert_array_equal(im2col(x, kh, kw, stride, padding),
                                  reference.im2col(x, kh, kw, stride, padding))


def test_a_transposed_view():
    x = np.random.default_rng(2).standard_normal((5, 5, 2, 3)).transpose(2, 3, 0, 1)
    np.testing.assert_array_equal(im2col(x, 2, 2, 1, 1), reference.im2col(x, 2, 2, 1, 1))
