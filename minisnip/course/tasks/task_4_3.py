"""Task 4.3: SGD with momentum and weight decay, and pruned entries that stay 0."""
import numpy as np

from minisnip import optim
from minisnip.kernels.optim import sgd_step
from minisnip.nn import Parameter


def test_one_plain_step():
    w, g, buf = np.array([1.0, 2.0]), np.array([0.5, -1.0]), np.zeros(2)
    sgd_step(w, g, buf, np.zeros(0), 0.1, 0.0, 0.0, 0.0, False, True)
    np.testing.assert_allclose(w, [0.95, 2.1])


def test_two_steps_with_momentum_and_weight_decay_by_hand():
    w, buf = np.array([1.0]), np.zeros(1)
    g = np.array([2.0])
    sgd_step(w, g, buf, np.zeros(0), 0.1, 0.9, 0.0, 0.5, False, True)
    # d = 2 + 0.5 * 1 = 2.5; b = 2.5; w = 1 - 0.25 = 0.75
    np.testing.assert_allclose([w[0], buf[0]], [0.75, 2.5])
    sgd_step(w, g, buf, np.zeros(0), 0.1, 0.9, 0.0, 0.5, False, False)
    # d = 2 + 0.375 = 2.375; b = 0.9 * 2.5 + 2.375 = 4.625; w = 0.75 - 0.4625
    np.testing.assert_allclose([w[0], buf[0]], [0.2875, 4.625])


def test_pruned_weights_and_their_momentum_stay_zero():
    p = Parameter(np.array([1.0, 0.0, -2.0]))
    p.mask = Parameter(np.array([1.0, 0.0, 1.0]), requires_grad=False)
    opt = optim.SGD([p], lr=0.1, momentum=0.9, weight_decay=0.01)
    for _ in range(3):
        p.grad = np.array([0.3, 5.0, -0.2])        # a gradient at the pruned entry too
        opt.step()
    assert p.data[1] == 0 and opt.state[0]["momentum_buffer"][1] == 0
    assert p.data[0] != 1.0 and p.data[2] != -2.0
