"""Task 4.3, instructor's tests: PyTorch's formula (written independently) over many steps and
options, and state that was not zero at a pruned entry."""
import numpy as np
import pytest

from minisnip.kernels.optim import sgd_step


def reference(w, g, buf, lr, momentum, dampening, wd, nesterov, first):
    d = g + wd * w
    if momentum:
        buf = d.copy() if first else momentum * buf + (1 - dampening) * d
        d = d + momentum * buf if nesterov else buf
    return w - lr * d, buf


@pytest.mark.parametrize("momentum,dampening,wd,nesterov",
                         [(0.0, 0.0, 0.0, False), (0.9, 0.0, 5e-4, False),
                          (0.9, 0.1, 1e-3, False), (0.8, 0.0, 1e-2, True)])
def test_many_steps_against_the_formula(momentum, dampening, wd, nesterov):
    rng = np.random.default_rng(0)
    w = rng.standard_normal(20)
    buf = np.zeros(20)
    ref_w, ref_b = w.copy(), buf.copy()
    for step in range(5):
        g = rng.standard_normal(20)
        sgd_step(w, g, buf, np.zeros(0), 0.05, momentum, dampening, wd, nesterov, step == 0)
        ref_w, ref_b = reference(ref_w, g, ref_b, 0.05, momentum, dampening, wd, nesterov,
                                 step == 0)
        np.testing.assert_allclose(w, ref_w, rtol=1e-12)


def test_state_at_a_pruned_entry_is_zeroed_whatever_it_held():
    w = np.array([0.5, 3.0, np.nan])
    buf = np.array([1.0, 7.0, 2.0])
    mask = np.array([1.0, 0.0, 0.0])
    sgd_step(w, np.array([1.0, 1.0, 1.0]), buf, mask, 0.1, 0.9, 0.0, 0.1, False, False)
    assert w[1] == 0 and w[2] == 0 and buf[1] == 0 and buf[2] == 0 and w[0] != 0.5
