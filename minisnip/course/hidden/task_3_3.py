"""Task 3.3, instructor's tests: the adjoint identity on random geometry."""
import numpy as np
from hypothesis import given, settings, strategies as st

from minisnip.kernels import reference
from minisnip.kernels.conv import col2im


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 3), c=st.integers(1, 3), h=st.integers(3, 8), w=st.integers(3, 8),
       kh=st.integers(1, 3), kw=st.integers(1, 3), stride=st.integers(1, 3),
       padding=st.integers(0, 2), seed=st.integers(0, 2 ** 31))
def test_col2im_is_the_adjoint_of_im2col(n, c, h, w, kh, kw, stride, padding, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, c, h, w))
    cols_shape = reference.im2col(x, kh, kw, stride, padding).shape
    y = rng.standard_normal(cols_shape)
    back = col2im(y, n, c, h, w, kh, kw, stride, padding)
    assert abs(np.sum(reference.im2col(x, kh, kw, stride, padding) * y) - np.sum(x * back)) \
        < 1e-9 * (1 + np.abs(y).sum())
