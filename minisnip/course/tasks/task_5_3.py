"""Task 5.3: one GRU step's backward against the engine's differentiation of the equations."""
import numpy as np
import pytest

from minisnip import Tensor
from minisnip.kernels.recurrent import gru_cell_backward, gru_cell_forward


def step_by_autodiff(xw, hw, h_prev, dh):
    xw_t, hw_t, h_t = (Tensor(a, requires_grad=True) for a in (xw, hw, h_prev))
    hid = h_prev.shape[1]
    r = (xw_t[:, :hid] + hw_t[:, :hid]).sigmoid()
    z = (xw_t[:, hid:2 * hid] + hw_t[:, hid:2 * hid]).sigmoid()
    n = (xw_t[:, 2 * hid:] + r * hw_t[:, 2 * hid:]).tanh()
    h = (1 - z) * n + z * h_t
    (h * Tensor(dh)).sum().backward()
    return xw_t.grad, hw_t.grad, h_t.grad


@pytest.mark.parametrize("batch,hid", [(1, 1), (3, 4), (5, 6)])
def test_against_autodiff(batch, hid):
    rng = np.random.default_rng(batch + 10 * hid)
    xw, hw = rng.standard_normal((batch, 3 * hid)), rng.standard_normal((batch, 3 * hid))
    h_prev, dh = rng.standard_normal((batch, hid)), rng.standard_normal((batch, hid))
    gates, h = np.empty_like(xw), np.empty_like(h_prev)
    gru_cell_forward(xw, hw, h_prev, gates, h)
    dxw, dhw = np.full_like(xw, np.nan), np.full_like(hw, np.nan)
    dh_direct = np.full_like(h_prev, np.nan)
    gru_cell_backward(dh, gates, hw, h_prev, dxw, dhw, dh_direct)
    want_xw, want_hw, want_h = step_by_autodiff(xw, hw, h_prev, dh)
    np.testing.assert_allclose(dxw, want_xw, rtol=1e-9, atol=1e-12, err_msg="dL/dxw")
    np.testing.assert_allclose(dhw, want_hw, rtol=1e-9, atol=1e-12, err_msg="dL/dhw")
    np.testing.assert_allclose(dh_direct, want_h, rtol=1e-9, atol=1e-12,
                               err_msg="dL/dh_prev through z * h_prev")
