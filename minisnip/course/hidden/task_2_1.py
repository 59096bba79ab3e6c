"""Task 2.1, instructor's tests: central (not one-sided) differences, the worst entry, the
whole gradcheck on a real op with a planted wrong backward."""
import numpy as np
import pytest

from minisnip.autograd import Function
from minisnip.gradcheck import GradcheckError, _full_jacobian_check, gradcheck


def test_central_differences_are_accurate_enough_for_a_tight_tolerance():
    """x**3 at x = 1 with eps 1e-4: one-sided differences are off by ~3e-4, central by ~1e-8."""
    x = np.array([1.0, -2.0])
    _full_jacobian_check(lambda x: float(np.sum(x ** 3)), x, 3 * x ** 2, 0, 1e-4, 1e-7, 1e-7)


def test_the_worst_of_several_wrong_entries_is_named():
    x = np.zeros((2, 3))
    analytic = np.zeros((2, 3))
    analytic[0, 0], analytic[1, 2] = 0.1, 5.0
    with pytest.raises(GradcheckError) as info:
        _full_jacobian_check(lambda x: 0.0, x, analytic, 0, 1e-6, 1e-6, 1e-5)
    assert "(1, 2)" in str(info.value) and "2 of 6" in str(info.value)


class _WrongSquare(Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return a * a

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved
        return (grad * a,)        # planted: should be 2 * a


def test_gradcheck_catches_a_planted_wrong_backward():
    with pytest.raises(GradcheckError):
        gradcheck(lambda a: _WrongSquare.apply(a), [np.random.default_rng(2).standard_normal(5)])
    assert gradcheck(lambda a: a * a, [np.random.default_rng(2).standard_normal(5)])
