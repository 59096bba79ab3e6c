"""Task 1.1: unbroadcast sums a gradient back down to the shape of the input that was
broadcast."""
import numpy as np

from minisnip.autograd import unbroadcast


def test_same_shape_is_returned_as_it_is():
    g = np.arange(6.0).reshape(2, 3)
    assert unbroadcast(g, (2, 3)) is g


def test_leading_axes_are_summed():
    g = np.ones((4, 2, 3))
    out = unbroadcast(g, (2, 3))
    assert out.shape == (2, 3) and np.all(out == 4)


def test_size_one_axes_are_summed_and_kept():
    g = np.arange(12.0).reshape(3, 4)
    np.testing.assert_array_equal(unbroadcast(g, (3, 1)), g.sum(axis=1, keepdims=True))
    np.testing.assert_array_equal(unbroadcast(g, (1, 4)), g.sum(axis=0, keepdims=True))


def test_both_at_once_counts_every_use():
    x_shape, big = (3, 1), (2, 3, 4)
    out = unbroadcast(np.ones(big), x_shape)
    assert out.shape == x_shape and np.all(out == 8)      # each entry used 2 * 4 times


def test_down_to_a_scalar():
    out = unbroadcast(np.ones((2, 5)), ())
    assert np.shape(out) == () and float(out) == 10.0
