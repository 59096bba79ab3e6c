"""Task 2.2: the random-direction check (JVP by finite differences against VJP . u)."""
import numpy as np
import pytest

from minisnip.gradcheck import GradcheckError, _random_direction_check


def _loss(weights):
    return lambda x: float(np.sum(weights * np.sin(x)))


def test_a_correct_gradient_passes():
    rng = np.random.default_rng(0)
    w, x = rng.standard_normal((20, 30)), rng.standard_normal((20, 30))
    _random_direction_check(_loss(w), x, w * np.cos(x), 0, 1e-6, 1e-6, 1e-5, 8,
                            np.random.default_rng(1))


def test_a_wrong_gradient_is_caught():
    rng = np.random.default_rng(0)
    w, x = rng.standard_normal((20, 30)), rng.standard_normal((20, 30))
    with pytest.raises(GradcheckError) as info:
        _random_direction_check(_loss(w), x, 1.01 * w * np.cos(x), 3, 1e-6, 1e-6, 1e-5, 8,
                                np.random.default_rng(1))
    assert "input 3" in str(info.value) and "of 8" in str(info.value)
