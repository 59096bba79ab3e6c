"""Task 4.1, instructor's tests: several batches sum the signed g, c.grad = w * dL/dw, eval
mode, a conv net."""
import numpy as np
from hypothesis import given, settings, strategies as st

from minisnip import Tensor, functional as F, nn
from minisnip.snip import connection_sensitivity


def net(seed, sizes=(5, 4, 3)):
    rng = np.random.default_rng(seed)
    layers = []
    for a, b in zip(sizes, sizes[1:]):
        layers += [nn.Linear(a, b, dtype=np.float64), nn.Tanh()]
    model = nn.Sequential(*layers[:-1])
    nn.init.initialize(model, "vs-h", rng=rng)
    return model, rng.standard_normal((6, sizes[0])), rng.integers(0, sizes[-1], 6)


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_g_equals_w_times_dL_dw(seed):
    model, x, y = net(seed)
    sens = connection_sensitivity(model, x, y)
    F.cross_entropy(model(Tensor(x)), y).backward()
    for g, (_, w, _) in zip(sens.g, model.named_masks()):
        np.testing.assert_allclose(g, w.data * w.grad, rtol=1e-9, atol=1e-12)


def test_batches_sum_the_signed_g():
    model, x, y = net(3)
    both = connection_sensitivity(model, batches=[(x[:3], y[:3]), (x[3:], y[3:])])
    a, b = connection_sensitivity(model, x[:3], y[:3]), connection_sensitivity(model, x[3:], y[3:])
    for g, ga, gb in zip(both.g, a.g, b.g):
        np.testing.assert_allclose(g, ga + gb, rtol=1e-12)
    assert len(both.losses) == 2


def test_scoring_is_in_eval_mode():
    seen = []

    class Probe(nn.Module):
        def forward(self, x):
            seen.append(self.training)
            return x

    model, x, y = net(4)
    wrapped = nn.Sequential(model, Probe())
    wrapped.train()
    connection_sensitivity(wrapped, x, y)
    assert seen == [False] and wrapped.training


def test_a_conv_net():
    rng = np.random.default_rng(5)
    model = nn.Sequential(nn.Conv2d(1, 2, 3, dtype=np.float64), nn.Tanh(), nn.Flatten(),
                          nn.Linear(2 * 2 * 2, 3, dtype=np.float64))
    nn.init.initialize(model, "vs-h", rng=rng)
    x, y = rng.standard_normal((4, 1, 4, 4)), rng.integers(0, 3, 4)
    sens = connection_sensitivity(model, x, y)
    F.cross_entropy(model(Tensor(x)), y).backward()
    for g, (_, w, _) in zip(sens.g, model.named_masks()):
        np.testing.assert_allclose(g, w.data * w.grad, rtol=1e-9, atol=1e-12)
