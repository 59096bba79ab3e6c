"""Task 3.3: col2im against its oracle, and the adjoint identity <im2col(x), y> = <x, col2im(y)>."""
import numpy as np
import pytest

from minisnip.course.testing import best_time, report
from minisnip.kernels import reference
from minisnip.kernels.conv import col2im


@pytest.mark.parametrize("shape,kh,kw,stride,padding", [
    ((2, 1, 5, 5), 3, 3, 1, 0), ((1, 2, 6, 5), 2, 3, 1, 1), ((3, 2, 7, 7), 3, 3, 2, 1),
    ((2, 3, 5, 6), 1, 1, 1, 0)])
def test_against_the_oracle(shape, kh, kw, stride, padding):
    n, c, h, w = shape
    oh, ow = (h + 2 * padding - kh) // stride + 1, (w + 2 * padding - kw) // stride + 1
    cols = np.random.default_rng(0).standard_normal((c * kh * kw, n * oh * ow))
    got = col2im(cols, n, c, h, w, kh, kw, stride, padding)
    assert got.shape == shape
    np.testing.assert_allclose(got, reference.col2im(cols, n, c, h, w, kh, kw, stride, padding),
                               rtol=1e-12, atol=1e-12)


def test_speed_is_reported():
    cols = np.random.default_rng(1).standard_normal((500, 6400)).astype(np.float32)
    ours = best_time(lambda: col2im(cols, 100, 20, 12, 12, 5, 5, 1, 0))
    report("3.3", f"LeNet-5's second conv's input gradient (500 x 6400 -> 100 x 20 x 12 x 12): "
                  f"{1e3 * ours:.2f} ms")
