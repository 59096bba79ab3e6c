"""Task 2.1: the entry-by-entry check accepts correct gradients and names the worst wrong one."""
import numpy as np
import pytest

from minisnip.gradcheck import GradcheckError, _full_jacobian_check


def _quadratic(weights):
    """loss(x) = sum(weights * x**2), whose gradient is 2 * weights * x."""
    return lambda x: float(np.sum(weights * x ** 2))


def test_a_correct_gradient_passes():
    rng = np.random.default_rng(0)
    w, x = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    _full_jacobian_check(_quadratic(w), x, 2 * w * x, 0, 1e-6, 1e-6, 1e-5)


def test_a_wrong_entry_is_caught_and_named():
    rng = np.random.default_rng(1)
    w, x = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    analytic = 2 * w * x
    analytic[2, 1] += 0.5
    with pytest.raises(GradcheckError) as info:
        _full_jacobian_check(_quadratic(w), x, analytic, 1, 1e-6, 1e-6, 1e-5)
    message = str(info.value)
    assert "input 1" in message and "(2, 1)" in message, message


def test_the_input_is_not_modified():
    x = np.linspace(-1, 1, 6)
    before = x.copy()
    _full_jacobian_check(_quadratic(np.ones(6)), x, 2 * x, 0, 1e-6, 1e-6, 1e-5)
    np.testing.assert_array_equal(x, before)
