"""Task 3.2: im2col against its oracle; its speed is reported."""
import numpy as np
import pytest

from minisnip.course.testing import best_time, report
from minisnip.kernels import reference
from minisnip.kernels.conv import im2col


@pytest.mark.parametrize("shape,kh,kw,stride,padding", [
    ((2, 1, 5, 5), 3, 3, 1, 0), ((1, 2, 6, 5), 2, 3, 1, 1), ((3, 2, 7, 7), 3, 3, 2, 1),
    ((1, 1, 4, 4), 4, 4, 1, 0), ((2, 3, 5, 6), 1, 1, 1, 0)])
def test_against_the_oracle(shape, kh, kw, stride, padding):
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    got = im2col(x, kh, kw, stride, padding)
    want = reference.im2col(x, kh, kw, stride, padding)
    assert got.shape == want.shape and got.dtype == x.dtype
    np.testing.assert_array_equal(got, want)


def test_speed_is_reported():
    x = np.random.default_rng(1).standard_normal((100, 20, 12, 12)).astype(np.float32)
    ours = best_time(lambda: im2col(x, 5, 5, 1, 0))
    oracle = best_time(lambda: reference.im2col(x, 5, 5, 1, 0), repeats=2)
    report("3.2", f"LeNet-5's second conv (100 x 20 x 12 x 12, 5 x 5): {1e3 * ours:.2f} ms, "
                  f"the NumPy oracle {1e3 * oracle:.2f} ms")
