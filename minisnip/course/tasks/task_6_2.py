"""Task 6.2: the exponential schedule of the iterative methods."""
import pytest

from minisnip.pai.iterative import exponential_schedule


def test_a_hand_computed_schedule():
    assert exponential_schedule(1000, 10, 2) == [100, 10]         # 1000 * (1/100)^(1/2)
    assert exponential_schedule(1000, 125, 3) == [500, 250, 125]


def test_ends_at_kappa_and_never_grows():
    schedule = exponential_schedule(266_200, 2_662, 100)
    assert len(schedule) == 100 and schedule[-1] == 2_662
    assert all(a >= b for a, b in zip(schedule, schedule[1:]))


def test_kappa_zero_and_bad_arguments():
    assert exponential_schedule(50, 0, 3) == [0, 0, 0]
    with pytest.raises(ValueError, match="kappa"):
        exponential_schedule(50, 51, 3)
    with pytest.raises(ValueError):
        exponential_schedule(50, 5, 0)
