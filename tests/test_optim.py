"""Optimizers follow PyTorch's formulas, and masks are never undone (DESIGN principle 5)."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

from minisnip import optim
from minisnip.nn import Parameter
from minisnip.tensor import Tensor


def _param(rng, shape, mask=None):
    p = Parameter(rng.standard_normal(shape).astype(np.float32))
    if mask is not None:
        p.mask = Tensor(mask.astype(np.float32))
        p.data *= p.mask.data
    return p


def test_sgd_matches_pytorch_formula(rng):
    p = _param(rng, (3, 2))
    w, buf = p.data.astype(np.float64).copy(), None
    opt = optim.SGD([p], lr=0.1, momentum=0.9, weight_decay=5e-4)
    for _ in range(4):
        g = rng.standard_normal((3, 2)).astype(np.float32)
        p.grad = g
        opt.step()
        d = g + 5e-4 * w
        buf = d if buf is None else 0.9 * buf + d
        w = w - 0.1 * buf
    np.testing.assert_allclose(p.data, w, rtol=1e-5, atol=1e-6)


def test_adam_matches_pytorch_formula(rng):
    p = _param(rng, (4,))
    w = p.data.astype(np.float64).copy()
    m = v = np.zeros(4)
    opt = optim.Adam([p], lr=0.01, weight_decay=0.1)
    for t in range(1, 5):
        g = rng.standard_normal(4).astype(np.float32)
        p.grad = g
        opt.step()
        d = g + 0.1 * w
        m = 0.9 * m + 0.1 * d
        v = 0.999 * v + 0.001 * d * d
        w = w - 0.01 / (1 - 0.9 ** t) * m / (np.sqrt(v / (1 - 0.999 ** t)) + 1e-8)
    np.testing.assert_allclose(p.data, w, rtol=1e-5, atol=1e-6)


@given(seed=st.integers(0, 10_000), kind=st.sampled_from(["sgd", "sgd-nesterov", "adam"]),
       density=st.floats(0.0, 1.0), steps=st.integers(1, 30),
       weight_decay=st.sampled_from([0.0, 5e-4, 0.1]))
def test_pruned_entries_stay_exactly_zero(seed, kind, density, steps, weight_decay):
    """Even when handed gradients that are nonzero at pruned entries (a caller that forgot the
    mask), the weights, momentum buffers and Adam moments of pruned entries stay exactly 0."""
    rng = np.random.default_rng(seed)
    mask = rng.random((6, 5)) < density
    p = _param(rng, (6, 5), mask)
    other = _param(rng, (3,))
    if kind == "adam":
        opt = optim.Adam([p, other], lr=0.01, weight_decay=weight_decay)
    else:
        opt = optim.SGD([p, other], lr=0.1, momentum=0.9, weight_decay=weight_decay,
                        nesterov=kind == "sgd-nesterov")
    for _ in range(steps):
        p.grad = rng.standard_normal((6, 5)).astype(np.float32)
        other.grad = rng.standard_normal(3).astype(np.float32)
        opt.step()
        assert np.all(p.data[~mask] == 0)
        for value in opt.state[0].values():
            if isinstance(value, np.ndarray):
                assert np.all(value[~mask] == 0)
    if density > 0.2:
        assert np.any(p.data[mask] != 0)


def test_multistep_lr():
    p = Parameter(np.zeros(2, np.float32))
    opt = optim.SGD([p], lr=0.1)
    sched = optim.MultiStepLR(opt, milestones=[5, 7], gamma=0.1)
    lrs = []
    for _ in range(10):
        lrs.append(opt.lr)
        sched.step()
    np.testing.assert_allclose(lrs, [0.1] * 5 + [0.01] * 2 + [0.001] * 3)


def test_optimizer_errors():
    with pytest.raises(ValueError, match="learning rate"):
        optim.SGD([Parameter(np.zeros(2))], lr=0)
    with pytest.raises(ValueError, match="empty"):
        optim.Adam([])


@given(seed=st.integers(0, 1000), masked=st.booleans(), nesterov=st.booleans(),
       first=st.booleans())
def test_fused_sgd_kernel_matches_its_oracle(seed, masked, nesterov, first):
    from minisnip.kernels import optim as kernels, reference
    rng = np.random.default_rng(seed)
    w, g, buf = (rng.standard_normal(50) for _ in range(3))
    mask = (rng.random(50) < 0.5).astype(np.float64) if masked else np.zeros(0)
    w2, buf2 = w.copy(), buf.copy()
    kernels.sgd_step(w, g, buf, mask, 0.1, 0.9, 0.0, 5e-4, nesterov, first)
    reference.sgd_step(w2, g, buf2, mask, 0.1, 0.9, 0.0, 5e-4, nesterov, first)
    np.testing.assert_allclose(w, w2, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(buf, buf2, rtol=1e-12, atol=1e-15)


@given(seed=st.integers(0, 1000), masked=st.booleans(), step=st.integers(1, 50))
def test_fused_adam_kernel_matches_its_oracle(seed, masked, step):
    from minisnip.kernels import optim as kernels, reference
    rng = np.random.default_rng(seed)
    w, g = rng.standard_normal(40), rng.standard_normal(40)
    m, v = rng.standard_normal(40), rng.random(40)
    mask = (rng.random(40) < 0.5).astype(np.float64) if masked else np.zeros(0)
    w2, m2, v2 = w.copy(), m.copy(), v.copy()
    kernels.adam_step(w, g, m, v, mask, 1e-3, 0.9, 0.999, 1e-8, 0.01, step)
    reference.adam_step(w2, g, m2, v2, mask, 1e-3, 0.9, 0.999, 1e-8, 0.01, step)
    for a, b in ((w, w2), (m, m2), (v, v2)):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-15)


def test_non_contiguous_parameter_is_still_updated(rng):
    p = Parameter(rng.standard_normal((4, 3)).astype(np.float32))
    p.data = p.data.T  # a student reassigns a transposed view
    before = p.data.copy()
    p.grad = np.ones((3, 4), np.float32)
    optim.SGD([p], lr=0.5).step()
    np.testing.assert_allclose(p.data, before - 0.5)
