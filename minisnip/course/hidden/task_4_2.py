"""Task 4.2, instructor's tests: random scores with many ties against a brute-force rule."""
import numpy as np
from hypothesis import given, settings, strategies as st

from minisnip.snip import top_kappa


@settings(max_examples=80, deadline=None)
@given(scores=st.lists(st.lists(st.sampled_from([0.0, -0.0, 0.5, 1.0, 2.0]), min_size=1,
                                max_size=7), min_size=1, max_size=4),
       data=st.data())
def test_exact_kappa_and_the_tie_rule(scores, data):
    arrays = [np.array(s) for s in scores]
    flat = np.concatenate(arrays)
    kappa = data.draw(st.integers(0, flat.size))
    keep = np.concatenate([k.ravel() for k in top_kappa(arrays, kappa)])
    assert keep.sum() == kappa
    # brute force: kept iff fewer than kappa entries beat it (larger, or equal and earlier)
    for j in range(flat.size):
        beaten_by = np.sum(flat > flat[j]) + np.sum(flat[:j] == flat[j])
        assert keep[j] == (beaten_by < kappa)


def test_shapes_come_back():
    keep = top_kappa([np.ones((2, 3, 4)), np.ones((5, 1))], 7)
    assert [k.shape for k in keep] == [(2, 3, 4), (5, 1)]
