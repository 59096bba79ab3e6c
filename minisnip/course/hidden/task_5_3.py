"""Task 5.3, instructor's tests: the GRU layer's gradients end to end, and float32."""
import numpy as np

from minisnip.course.testing import recurrent_backward_by_autodiff
from minisnip.kernels.recurrent import gru_backward, gru_cell_backward, gru_cell_forward, \
    gru_forward


def test_the_whole_sequence():
    rng = np.random.default_rng(4)
    hid = 3
    inputs = (rng.standard_normal((4, 2, 5)), rng.standard_normal((2, hid)),
              rng.standard_normal((3 * hid, 5)), rng.standard_normal((3 * hid, hid)),
              rng.standard_normal(3 * hid), rng.standard_normal(3 * hid))
    hs, saved = gru_forward(*inputs)
    dhs = rng.standard_normal(hs.shape)
    for got, want in zip(gru_backward(dhs, saved), recurrent_backward_by_autodiff("gru", dhs, *inputs)):
        np.testing.assert_allclose(got, want, rtol=1e-8, atol=1e-10)


def test_float32():
    rng = np.random.default_rng(5)
    xw, hw = (rng.standard_normal((3, 6)).astype(np.float32) for _ in range(2))
    h_prev, dh = (rng.standard_normal((3, 2)).astype(np.float32) for _ in range(2))
    gates, h = np.empty_like(xw), np.empty_like(h_prev)
    gru_cell_forward(xw, hw, h_prev, gates, h)
    out = [np.empty_like(xw), np.empty_like(hw), np.empty_like(h_prev)]
    gru_cell_backward(dh, gates, hw, h_prev, *out)
    assert all(o.dtype == np.float32 and np.all(np.isfinite(o)) for o in out)
