"""Task 2.2, instructor's tests: a single wrong entry of a large input, reproducibility, and the
whole gradcheck on a large input."""
import numpy as np
import pytest

from minisnip.gradcheck import GradcheckError, _random_direction_check, gradcheck


def test_one_wrong_entry_of_many_is_caught():
    rng = np.random.default_rng(3)
    x = rng.standard_normal(500)
    analytic = 2 * x
    analytic[123] += 1.0
    with pytest.raises(GradcheckError):
        _random_direction_check(lambda x: float(np.sum(x ** 2)), x, analytic, 0, 1e-6, 1e-7,
                                1e-6, 8, np.random.default_rng(4))


def test_the_same_seed_gives_the_same_verdict_and_leaves_the_input_alone():
    x = np.random.default_rng(5).standard_normal(100)
    before = x.copy()
    for _ in range(2):
        _random_direction_check(lambda x: float(np.sum(x ** 2)), x, 2 * x, 0, 1e-6, 1e-6, 1e-5,
                                4, np.random.default_rng(6))
    np.testing.assert_array_equal(x, before)


def test_gradcheck_on_a_large_input_uses_directions_and_passes():
    rng = np.random.default_rng(7)
    assert gradcheck(lambda a, b: (a @ b).tanh(), [rng.standard_normal((12, 10)),
                                                   rng.standard_normal((10, 9))])
