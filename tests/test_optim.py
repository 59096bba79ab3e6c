"""Optimizers follow PyTorch's formulas, and masks are never undone (DESIGN principle 5)."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

from minisnip import nn, optim
from minisnip.nn import Parameter
from minisnip.tensor import Tensor


def _param(rng, shape, mask=None):
    p = Parameter(rng.standard_normal(shape).astype(np.float32))
    if mask is not None:
        p.mask = Tensor(mask.astype(np.float32))
        p.data *= p.mask.data
    return p


def test_sgd_hand_computed_steps():
    """Three steps on one weight, worked out by hand from PyTorch's documented algorithm
    (w = 1, g = 0.5 every step, lr 0.1, momentum 0.9, dampening 0.5, weight decay 0.1):
    step 1: d = 0.5 + 0.1 * 1 = 0.6;            b = 0.6 (no dampening on the first step);
            w = 1 - 0.1 * 0.6 = 0.94
    step 2: d = 0.5 + 0.094 = 0.594;            b = 0.9 * 0.6 + 0.5 * 0.594 = 0.837;
            w = 0.94 - 0.0837 = 0.8563
    step 3: d = 0.5 + 0.08563 = 0.58563;        b = 0.9 * 0.837 + 0.5 * 0.58563 = 1.046115;
            w = 0.8563 - 0.1046115 = 0.7516885"""
    p = Parameter(np.array([1.0]))
    opt = optim.SGD([p], lr=0.1, momentum=0.9, dampening=0.5, weight_decay=0.1)
    for want_w, want_b in ((0.94, 0.6), (0.8563, 0.837), (0.7516885, 1.046115)):
        p.grad = np.array([0.5])
        opt.step()
        np.testing.assert_allclose(p.data, [want_w], rtol=1e-12)
        np.testing.assert_allclose(opt.state[0]["momentum_buffer"], [want_b], rtol=1e-12)


def test_adam_hand_computed_steps():
    """Adam with a constant gradient moves by lr per step once bias-corrected: with w = 1,
    g = 0.5, lr 0.1, betas (0.9, 0.999): m = 0.05, v = 0.00025 after step 1, m / (1 - 0.9) =
    0.5, v / (1 - 0.999) = 0.25, so w = 1 - 0.1 * 0.5 / (0.5 + eps) = 0.9; step 2: m = 0.095,
    v = 0.00049975, corrected 0.5 and 0.25 again, w = 0.8."""
    p = Parameter(np.array([1.0]))
    opt = optim.Adam([p], lr=0.1, eps=1e-8)
    for want_w, want_m, want_v in ((0.9, 0.05, 0.00025), (0.8, 0.095, 0.00049975)):
        p.grad = np.array([0.5])
        opt.step()
        np.testing.assert_allclose(p.data, [want_w], rtol=1e-7)
        np.testing.assert_allclose(opt.state[0]["exp_avg"], [want_m], rtol=1e-12)
        np.testing.assert_allclose(opt.state[0]["exp_avg_sq"], [want_v], rtol=1e-12)


SGD_SETTINGS = [dict(momentum=0.0), dict(momentum=0.9), dict(momentum=0.9, dampening=0.3),
                dict(momentum=0.8, weight_decay=0.05), dict(momentum=0.9, nesterov=True),
                dict(momentum=0.7, dampening=0.5, weight_decay=0.01)]


@pytest.mark.parametrize("settings", SGD_SETTINGS, ids=str)
def test_sgd_matches_torch(settings, rng):
    torch = pytest.importorskip("torch")
    w0 = rng.standard_normal((3, 4))
    ours, theirs = Parameter(w0.copy()), torch.tensor(w0.copy(), requires_grad=True)
    opt = optim.SGD([ours], lr=0.1, **settings)
    opt_t = torch.optim.SGD([theirs], lr=0.1, **settings)
    for _ in range(5):
        g = rng.standard_normal((3, 4))
        ours.grad, theirs.grad = g.copy(), torch.tensor(g)
        opt.step()
        opt_t.step()
        np.testing.assert_allclose(ours.data, theirs.detach().numpy(), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("settings", [dict(), dict(weight_decay=0.1),
                                      dict(betas=(0.8, 0.99), eps=1e-6)], ids=str)
def test_adam_matches_torch(settings, rng):
    torch = pytest.importorskip("torch")
    w0 = rng.standard_normal(7)
    ours, theirs = Parameter(w0.copy()), torch.tensor(w0.copy(), requires_grad=True)
    opt = optim.Adam([ours], lr=0.01, **settings)
    opt_t = torch.optim.Adam([theirs], lr=0.01, **settings)
    for _ in range(6):
        g = rng.standard_normal(7)
        ours.grad, theirs.grad = g.copy(), torch.tensor(g)
        opt.step()
        opt_t.step()
        np.testing.assert_allclose(ours.data, theirs.detach().numpy(), rtol=1e-10, atol=1e-12)


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
       first=st.booleans(), momentum=st.sampled_from([0.0, 0.5, 0.9]),
       dampening=st.sampled_from([0.0, 0.1, 0.6]), weight_decay=st.sampled_from([0.0, 0.01]))
def test_fused_sgd_kernel_matches_its_oracle(seed, masked, nesterov, first, momentum,
                                             dampening, weight_decay):
    """The oracle is torch.optim.SGD's documented algorithm (kernels/reference.py). Pruned
    entries start with non-zero weight and state: they must end at 0."""
    from minisnip.kernels import optim as kernels, reference
    rng = np.random.default_rng(seed)
    w, g, buf = (rng.standard_normal(50) for _ in range(3))
    mask = (rng.random(50) < 0.5).astype(np.float64) if masked else np.zeros(0)
    w2, buf2 = w.copy(), buf.copy()
    kernels.sgd_step(w, g, buf, mask, 0.1, momentum, dampening, weight_decay, nesterov, first)
    reference.sgd_step(w2, g, buf2, mask, 0.1, momentum, dampening, weight_decay, nesterov, first)
    np.testing.assert_allclose(w, w2, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(buf, buf2, rtol=1e-12, atol=1e-15)


@given(seed=st.integers(0, 1000), masked=st.booleans(), step=st.integers(1, 50),
       weight_decay=st.sampled_from([0.0, 0.01]), betas=st.sampled_from([(0.9, 0.999), (0.5, 0.9)]))
def test_fused_adam_kernel_matches_its_oracle(seed, masked, step, weight_decay, betas):
    from minisnip.kernels import optim as kernels, reference
    rng = np.random.default_rng(seed)
    w, g = rng.standard_normal(40), rng.standard_normal(40)
    m, v = rng.standard_normal(40), rng.random(40)
    mask = (rng.random(40) < 0.5).astype(np.float64) if masked else np.zeros(0)
    w2, m2, v2 = w.copy(), m.copy(), v.copy()
    kernels.adam_step(w, g, m, v, mask, 1e-3, *betas, 1e-8, weight_decay, step)
    reference.adam_step(w2, g, m2, v2, mask, 1e-3, *betas, 1e-8, weight_decay, step)
    for a, b in ((w, w2), (m, m2), (v, v2)):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-15)


@pytest.mark.parametrize("kind", ["sgd", "sgd-nesterov", "adam"])
def test_state_of_pruned_entries_is_zero_even_when_the_pruned_weight_is_not(kind, rng):
    """A mask written without zeroing the weight (or a state dict whose weights are dense), and
    optimizer state from dense steps before pruning: with weight decay, nothing of the pruned
    entries may leak into the momentum buffer or the Adam moments (issue 9, item 7)."""
    p = Parameter(rng.standard_normal((5, 4)))
    opt = (optim.Adam([p], lr=0.01, weight_decay=0.1) if kind == "adam" else
           optim.SGD([p], lr=0.1, momentum=0.9, weight_decay=0.1, nesterov=kind != "sgd"))
    p.grad = rng.standard_normal((5, 4))
    opt.step()                                   # dense: state non-zero everywhere
    mask = rng.random((5, 4)) < 0.5
    p.mask = Tensor(mask.astype(np.float64))     # pruned, weights left as they were
    for _ in range(3):
        p.grad = rng.standard_normal((5, 4))     # also non-zero at pruned entries
        opt.step()
        assert np.all(p.data[~mask] == 0)
        for name, value in opt.state[0].items():
            if isinstance(value, np.ndarray):
                assert np.all(value[~mask] == 0), name
    assert np.all(p.data[mask] != 0)


@pytest.mark.parametrize("grad,error,match", [
    (np.ones((3, 4)), ValueError,
     r"parameter 1 of 2 \(shape \(4, 3\), float32\).*shape \(3, 4\); expected \(4, 3\)"),
    (np.ones(11), ValueError, r"parameter 1 .*shape \(11,\)"),
    (Tensor(np.ones((4, 3), np.float32)), TypeError, r"parameter 1 .*is a Tensor"),
    ([[1.0] * 3] * 4, TypeError, r"parameter 1 .*is a list"),
    (np.ones((4, 3), np.int64), TypeError, r"parameter 1 .*dtype int64"),
], ids=["transposed", "short", "tensor", "list", "integer"])
@pytest.mark.parametrize("kind", ["sgd", "adam"])
def test_step_refuses_a_bad_gradient_before_changing_anything(grad, error, match, kind, rng):
    """A wrong-shaped gradient once made the kernels read past the end of the array, a Tensor
    failed deep inside Numba (issue 9, item 6). Now: a clear error naming the parameter, and
    no parameter updated (the first one has a good gradient)."""
    good = Parameter(rng.standard_normal(6).astype(np.float32))
    bad = Parameter(rng.standard_normal((4, 3)).astype(np.float32))
    opt = (optim.SGD([good, bad], lr=0.1, momentum=0.9) if kind == "sgd"
           else optim.Adam([good, bad], lr=0.1))
    before = good.data.copy(), bad.data.copy()
    good.grad, bad.grad = np.ones(6, np.float32), grad
    with pytest.raises(error, match=match):
        opt.step()
    np.testing.assert_array_equal(good.data, before[0])
    np.testing.assert_array_equal(bad.data, before[1])
    assert opt.state == [{}, {}]


def test_step_refuses_a_mask_of_the_wrong_shape(rng):
    p = Parameter(rng.standard_normal((4, 3)).astype(np.float32))
    p.mask = Tensor(np.ones(5, np.float32))
    p.grad = np.ones((4, 3), np.float32)
    with pytest.raises(ValueError, match=r"parameter 0 .*mask has shape \(5,\)"):
        optim.SGD([p], lr=0.1).step()


def test_non_contiguous_parameter_is_still_updated(rng):
    p = Parameter(rng.standard_normal((4, 3)).astype(np.float32))
    p.data = p.data.T  # a student reassigns a transposed view
    before = p.data.copy()
    p.grad = np.ones((3, 4), np.float32)
    optim.SGD([p], lr=0.5).step()
    np.testing.assert_allclose(p.data, before - 0.5)


@pytest.mark.parametrize("make,match", [
    (lambda p: optim.Adam(p, eps=-1e-8), "eps must be a finite number in"),
    (lambda p: optim.Adam(p, eps=float("nan")), "eps"),
    (lambda p: optim.Adam(p, betas=(0.9, 1.0)), r"betas\[1\]"),
    (lambda p: optim.Adam(p, betas=(0.9,)), "pair"),
    (lambda p: optim.Adam(p, weight_decay=-1), "weight_decay"),
    (lambda p: optim.SGD(p, lr=float("inf")), "learning rate"),
    (lambda p: optim.SGD(p, lr=0.1, momentum=float("nan")), "momentum"),
    (lambda p: optim.SGD(p, lr=0.1, dampening=2), "dampening"),
    (lambda p: optim.SGD(p, lr=0.1, weight_decay=-0.1), "weight_decay"),
    (lambda p: optim.SGD(p, lr="0.1"), "learning rate"),
])
def test_bad_hyper_parameters_are_refused_naming_them(make, match):
    with pytest.raises(ValueError, match=match):
        make([nn.Linear(2, 2).weight])
