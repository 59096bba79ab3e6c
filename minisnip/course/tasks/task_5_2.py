"""Task 5.2: the LSTM's backward through time against the engine (every gradient, including a
loss on the last cell state)."""
import numpy as np
import pytest

from minisnip.course.testing import recurrent_backward_by_autodiff
from minisnip.kernels.recurrent import lstm_backward, lstm_forward


def _inputs(seed, t_len=5, batch=3, d=4, hid=3):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((t_len, batch, d)), rng.standard_normal((batch, hid)),
            rng.standard_normal((batch, hid)), rng.standard_normal((4 * hid, d)) * 0.5,
            rng.standard_normal((4 * hid, hid)) * 0.5, rng.standard_normal(4 * hid) * 0.1,
            rng.standard_normal(4 * hid) * 0.1)


NAMES = ("dx", "dh0", "dc0", "dW_ih", "dW_hh", "db_ih", "db_hh")


@pytest.mark.parametrize("with_c_loss", [False, True])
def test_every_gradient_against_autodiff(with_c_loss):
    inputs = _inputs(0)
    hs, saved = lstm_forward(*inputs)
    rng = np.random.default_rng(1)
    dhs = rng.standard_normal(hs.shape)
    dc_last = rng.standard_normal(hs.shape[1:]) if with_c_loss else np.zeros(hs.shape[1:])
    grads = lstm_backward(dhs, dc_last, saved)
    want = recurrent_backward_by_autodiff("lstm", dhs, *inputs, dc_last=dc_last)
    want = list(want[:5]) + [want[5], want[6]]
    assert len(grads) == 7
    for name, got, w in zip(NAMES, grads, want):
        np.testing.assert_allclose(got, w, rtol=1e-8, atol=1e-10, err_msg=name)


def test_a_sequence_of_one_step():
    inputs = _inputs(2, t_len=1)
    hs, saved = lstm_forward(*inputs)
    dhs = np.ones_like(hs)
    grads = lstm_backward(dhs, np.zeros(hs.shape[1:]), saved)
    want = recurrent_backward_by_autodiff("lstm", dhs, *inputs)
    for name, got, w in zip(NAMES, grads, want):
        np.testing.assert_allclose(got, w, rtol=1e-8, atol=1e-10, err_msg=name)
