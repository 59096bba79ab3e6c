"""Task 6.2, instructor's tests: the formula on random arguments."""
from hypothesis import given, settings, strategies as st

from minisnip.pai.iterative import exponential_schedule


@settings(max_examples=80, deadline=None)
@given(m=st.integers(1, 10**6), data=st.data())
def test_the_formula(m, data):
    kappa = data.draw(st.integers(0, m))
    rounds = data.draw(st.integers(1, 120))
    schedule = exponential_schedule(m, kappa, rounds)
    assert len(schedule) == rounds and schedule[-1] == kappa
    for t, k in enumerate(schedule[:-1], start=1):
        assert k == int(round(m * (kappa / m) ** (t / rounds)))
