"""Task 5.1, instructor's tests: float32, saturated gates, no gradient from the future."""
import numpy as np

from minisnip.kernels.recurrent import lstm_cell_backward, lstm_cell_forward


def _step_grads(pre, c_prev, dh, dc):
    gates, c, h = np.empty_like(pre), np.empty_like(c_prev), np.empty_like(c_prev)
    lstm_cell_forward(pre, c_prev, gates, c, h)
    dpre, dc_prev = np.empty_like(pre), np.empty_like(c_prev)
    lstm_cell_backward(dh, dc, gates, c, c_prev, dpre, dc_prev)
    return dpre, dc_prev


def test_float32_against_float64():
    rng = np.random.default_rng(0)
    args = [rng.standard_normal((4, 12)), rng.standard_normal((4, 3)),
            rng.standard_normal((4, 3)), rng.standard_normal((4, 3))]
    d64 = _step_grads(*args)
    d32 = _step_grads(*[a.astype(np.float32) for a in args])
    assert d32[0].dtype == np.float32
    for a, b in zip(d32, d64):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_finite_differences_of_a_whole_step():
    rng = np.random.default_rng(1)
    pre, c_prev = rng.standard_normal((2, 8)) * 3, rng.standard_normal((2, 2))
    dh, dc = rng.standard_normal((2, 2)), np.zeros((2, 2))
    dpre, _ = _step_grads(pre, c_prev, dh, dc)

    def loss(p):
        gates, c, h = np.empty_like(p), np.empty_like(c_prev), np.empty_like(c_prev)
        lstm_cell_forward(p, c_prev, gates, c, h)
        return np.sum(h * dh)

    for j in np.ndindex(pre.shape):
        e = np.zeros_like(pre)
        e[j] = 1e-6
        assert abs((loss(pre + e) - loss(pre - e)) / 2e-6 - dpre[j]) < 1e-6
