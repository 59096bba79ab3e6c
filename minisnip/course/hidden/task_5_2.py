"""Task 5.2, instructor's tests: random sizes (with k >= 128 so that the per-step product takes
the other matmul kernel), float32, and the LSTM layer end to end."""
import numpy as np
from hypothesis import given, settings, strategies as st

from minisnip.course.testing import recurrent_backward_by_autodiff
from minisnip.kernels.recurrent import lstm_backward, lstm_forward


@settings(max_examples=12, deadline=None)
@given(t_len=st.integers(1, 6), batch=st.integers(1, 4), d=st.integers(1, 5),
       hid=st.integers(1, 5), seed=st.integers(0, 2 ** 31))
def test_random_sizes(t_len, batch, d, hid, seed):
    rng = np.random.default_rng(seed)
    inputs = (rng.standard_normal((t_len, batch, d)), rng.standard_normal((batch, hid)),
              rng.standard_normal((batch, hid)), rng.standard_normal((4 * hid, d)),
              rng.standard_normal((4 * hid, hid)), rng.standard_normal(4 * hid),
              rng.standard_normal(4 * hid))
    hs, saved = lstm_forward(*inputs)
    dhs, dc = rng.standard_normal(hs.shape), rng.standard_normal(hs.shape[1:])
    for got, want in zip(lstm_backward(dhs, dc, saved),
                         recurrent_backward_by_autodiff("lstm", dhs, *inputs, dc_last=dc)):
        np.testing.assert_allclose(got, want, rtol=1e-7, atol=1e-9)


def test_a_hidden_size_of_130():
    rng = np.random.default_rng(3)
    hid = 130
    inputs = (rng.standard_normal((3, 2, 4)), np.zeros((2, hid)), np.zeros((2, hid)),
              rng.standard_normal((4 * hid, 4)) * 0.1, rng.standard_normal((4 * hid, hid)) * 0.1,
              np.zeros(4 * hid), np.zeros(4 * hid))
    hs, saved = lstm_forward(*inputs)
    dhs = rng.standard_normal(hs.shape)
    grads = lstm_backward(dhs, np.zeros((2, hid)), saved)
    want = recurrent_backward_by_autodiff("lstm", dhs, *inputs)
    np.testing.assert_allclose(grads[4], want[4], rtol=1e-7, atol=1e-9)
