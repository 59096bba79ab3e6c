"""Task 5.1: one LSTM step's backward against the engine's differentiation of the equations."""
import numpy as np
import pytest

from minisnip import Tensor
from minisnip.kernels.recurrent import lstm_cell_backward, lstm_cell_forward


def step_by_autodiff(pre, c_prev, dh, dc):
    """dL/dpre and dL/dc_prev for L = sum(h * dh) + sum(c * dc), by the engine."""
    pre_t, c_t = Tensor(pre, requires_grad=True), Tensor(c_prev, requires_grad=True)
    hid = pre.shape[1] // 4
    i, f = pre_t[:, :hid].sigmoid(), pre_t[:, hid:2 * hid].sigmoid()
    g, o = pre_t[:, 2 * hid:3 * hid].tanh(), pre_t[:, 3 * hid:].sigmoid()
    c = f * c_t + i * g
    h = o * c.tanh()
    ((h * Tensor(dh)).sum() + (c * Tensor(dc)).sum()).backward()
    return pre_t.grad, c_t.grad


@pytest.mark.parametrize("batch,hid", [(1, 1), (3, 4), (5, 7)])
def test_against_autodiff(batch, hid):
    rng = np.random.default_rng(batch * hid)
    pre, c_prev = rng.standard_normal((batch, 4 * hid)), rng.standard_normal((batch, hid))
    dh, dc = rng.standard_normal((batch, hid)), rng.standard_normal((batch, hid))
    gates, c, h = np.empty_like(pre), np.empty_like(c_prev), np.empty_like(c_prev)
    lstm_cell_forward(pre, c_prev, gates, c, h)
    dpre, dc_prev = np.full_like(pre, np.nan), np.full_like(c_prev, np.nan)
    lstm_cell_backward(dh, dc, gates, c, c_prev, dpre, dc_prev)
    want_pre, want_c = step_by_autodiff(pre, c_prev, dh, dc)
    np.testing.assert_allclose(dpre, want_pre, rtol=1e-9, atol=1e-12, err_msg="dL/dpre")
    np.testing.assert_allclose(dc_prev, want_c, rtol=1e-9, atol=1e-12, err_msg="dL/dc_prev")
