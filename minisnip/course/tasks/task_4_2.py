"""Task 4.2: exactly kappa, the lower global index wins ties, one mask per layer."""
import numpy as np

from minisnip.snip import top_kappa


def test_keeps_the_largest_over_all_layers():
    scores = [np.array([[0.3, 0.1], [0.2, 0.0]]), np.array([0.5, 0.05])]
    keep = top_kappa(scores, 3)
    np.testing.assert_array_equal(keep[0], [[True, False], [True, False]])
    np.testing.assert_array_equal(keep[1], [True, False])
    assert all(k.dtype == bool for k in keep)


def test_ties_go_to_the_lower_global_index():
    scores = [np.array([1.0, 2.0, 2.0]), np.array([2.0, 1.0])]
    keep = top_kappa(scores, 2)
    np.testing.assert_array_equal(np.concatenate(keep), [False, True, True, False, False])


def test_all_equal_scores_keep_exactly_the_first_kappa():
    scores = [np.zeros((2, 3)), np.zeros(4)]
    for kappa in (0, 1, 5, 10):
        flat = np.concatenate([k.ravel() for k in top_kappa(scores, kappa)])
        np.testing.assert_array_equal(flat, np.arange(10) < kappa)
