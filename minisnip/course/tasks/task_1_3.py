"""Task 1.3: the backward of sum and mean over any axes, with and without keepdim."""
import numpy as np
import pytest

from minisnip.course.testing import assert_close, numeric_vjp, vjp
from minisnip.ops.reduction import Mean, Sum

rng = np.random.default_rng(0)
CASES = [((2, 3, 4), (1,), False), ((2, 3, 4), (0, 2), True), ((2, 3, 4), (0, 1, 2), False),
         ((5,), (0,), True)]


@pytest.mark.parametrize("op,f", [(Sum, np.sum), (Mean, np.mean)])
@pytest.mark.parametrize("shape,axes,keepdim", CASES)
def test_against_finite_differences(op, f, shape, axes, keepdim):
    x = rng.standard_normal(shape)
    out_shape = np.sum(x, axis=axes, keepdims=keepdim).shape
    grad = rng.standard_normal(out_shape)
    _, grads = vjp(op, [x, axes, keepdim], grad)
    want = numeric_vjp(lambda x: f(x, axis=axes, keepdims=keepdim), [x], grad)[0]
    assert_close(grads[0], want, f"{op.__name__} over axes {axes}, keepdim={keepdim}")
    assert grads[1:] == (None, None), "axes and keepdim are not tensors: return None for them"


def test_the_gradient_is_a_writable_contiguous_copy():
    _, grads = vjp(Sum, [np.ones((3, 4)), (0,), False], np.ones(4))
    assert grads[0].flags.c_contiguous and grads[0].flags.writeable
