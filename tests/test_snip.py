"""SNIP validated: g = dL/dc against w * dL/dw, finite differences (Eq. 5) and the discrete
removal Delta-L_j (Eq. 4); exactly-kappa top-kappa (Eq. 7); Algorithm 1's report."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

from minisnip import Tensor, functional as F, nn
from minisnip.nn import init
from minisnip.pruners import PRUNERS
from minisnip.snip import (connection_sensitivity, effective_kept, kappa_from, prune,
                           top_kappa)


class MLP(nn.Module):
    def __init__(self, sizes, act="tanh"):
        super().__init__()
        self.layers = nn.Sequential(*[nn.Linear(a, b, dtype=np.float64)
                                      for a, b in zip(sizes, sizes[1:])])
        self.act = act

    def forward(self, x):
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if i < len(self.layers) - 1:
                x = x.tanh() if self.act == "tanh" else x.relu()
        return x


def small_net(seed, sizes=(5, 4, 3), act="tanh", batch=6):
    rng = np.random.default_rng(seed)
    model = MLP(sizes, act)
    init.initialize(model, "vs-h", rng=rng)
    for layer in model.layers:
        layer.bias.data[...] = rng.standard_normal(layer.bias.shape) * 0.1
    x = rng.standard_normal((batch, sizes[0]))
    y = rng.integers(0, sizes[-1], batch)
    return model, x, y


def loss_with_masks(model, x, y, masks):
    layers = list(model.named_masks())
    saved = [m.data.copy() for _, _, m in layers]
    for (_, _, m), value in zip(layers, masks):
        m.data[...] = value
    loss = F.cross_entropy(model(Tensor(x)), y).item()
    for (_, _, m), value in zip(layers, saved):
        m.data[...] = value
    return loss


sizes = st.lists(st.integers(1, 5), min_size=2, max_size=4).map(tuple)


@given(seed=st.integers(0, 10_000), sizes=sizes, act=st.sampled_from(["tanh", "relu"]))
def test_mask_gradient_equals_w_times_weight_gradient(seed, sizes, act):
    model, x, y = small_net(seed, sizes + (3,), act)
    sens = connection_sensitivity(model, x, y)
    F.cross_entropy(model(Tensor(x)), y).backward()
    for g, (_, w, _) in zip(sens.g, model.named_masks()):
        np.testing.assert_allclose(g, w.data * w.grad, rtol=1e-10, atol=1e-14)


@given(seed=st.integers(0, 10_000), sizes=sizes)
def test_sensitivity_equals_finite_difference_in_c(seed, sizes):
    """Eq. 5: g_j = dL/dc_j at c = 1, by central differences of the loss in c_j."""
    model, x, y = small_net(seed, sizes + (3,))
    sens = connection_sensitivity(model, x, y)
    ones = [np.ones(m.shape) for _, _, m in model.named_masks()]
    eps = 1e-6
    for layer, g in enumerate(sens.g):
        for j in np.ndindex(g.shape):
            plus = [o.copy() for o in ones]
            minus = [o.copy() for o in ones]
            plus[layer][j] += eps
            minus[layer][j] -= eps
            numeric = (loss_with_masks(model, x, y, plus) - loss_with_masks(model, x, y, minus)) / (2 * eps)
            assert abs(numeric - g[j]) <= 1e-7 + 1e-5 * abs(numeric)


@given(seed=st.integers(0, 10_000), sizes=sizes)
def test_discrete_removal_agrees_to_first_order(seed, sizes):
    """Eq. 4 vs Eq. 5: Delta-L_j = L(1) - L(1 - e_j) equals g_j up to the second-order term.

    Taylor with Lagrange remainder: |Delta-L_j - g_j| = |h_j(xi)| / 2 for some xi on the path
    from c_j = 1 to c_j = 0, where h_j = d^2 L / dc_j^2. The tolerance is half the largest h_j
    sampled along that path (with a margin), which scales with the square of the removed term
    w_j * (input of j): it vanishes for connections whose removal changes little."""
    model, x, y = small_net(seed, sizes + (3,))
    sens = connection_sensitivity(model, x, y)
    ones = [np.ones(m.shape) for _, _, m in model.named_masks()]
    base = loss_with_masks(model, x, y, ones)
    eps = 1e-4
    for layer, g in enumerate(sens.g):
        for j in np.ndindex(g.shape):
            def loss_at(t):
                c = [o.copy() for o in ones]
                c[layer][j] = t
                return loss_with_masks(model, x, y, c)
            delta = base - loss_at(0.0)
            curvature = max(abs(loss_at(t + eps) - 2 * loss_at(t) + loss_at(t - eps)) / eps ** 2
                            for t in np.linspace(0, 1, 9))
            assert abs(delta - g[j]) <= 0.5 * curvature * 1.5 + 1e-7


def test_sensitivity_ranks_connections_like_the_discrete_removal():
    """On a small net the ranking by |g| follows the ranking by |Delta-L| (Spearman 0.85 for
    this seed; first-order, so not perfect: lessons/03 shows where they disagree)."""
    model, x, y = small_net(7, sizes=(8, 6, 4), batch=20)
    sens = connection_sensitivity(model, x, y)
    ones = [np.ones(m.shape) for _, _, m in model.named_masks()]
    base = loss_with_masks(model, x, y, ones)
    exact = []
    for layer, g in enumerate(sens.g):
        for j in np.ndindex(g.shape):
            c = [o.copy() for o in ones]
            c[layer][j] = 0
            exact.append(base - loss_with_masks(model, x, y, c))
    approx = np.concatenate([g.ravel() for g in sens.g])
    ranks = lambda v: np.argsort(np.argsort(v))
    rho = np.corrcoef(ranks(np.abs(approx)), ranks(np.abs(np.array(exact))))[0, 1]
    assert rho > 0.75


def test_normalized_sensitivity_and_restored_state():
    model, x, y = small_net(1)
    model.layers[0].c.data[0, 0] = 0
    model.train()
    sens = connection_sensitivity(model, x, y)
    assert abs(sum(s.sum() for s in sens.s) - 1) < 1e-12
    assert all(np.all(s >= 0) for s in sens.s)
    assert model.layers[0].c.data[0, 0] == 0 and model.training
    assert all(p.requires_grad and p.grad is None for p in model.parameters())
    assert all(not m.requires_grad and m.grad is None for _, _, m in model.named_masks())


def test_accumulating_batches_sums_signed_g():
    model, x, y = small_net(2, batch=8)
    both = connection_sensitivity(model, batches=[(x[:4], y[:4]), (x[4:], y[4:])])
    first = connection_sensitivity(model, x[:4], y[:4])
    second = connection_sensitivity(model, x[4:], y[4:])
    for g, a, b in zip(both.g, first.g, second.g):
        np.testing.assert_allclose(g, a + b, rtol=1e-12)


def test_scoring_runs_in_eval_mode():
    seen = []

    class Probe(nn.Module):
        def forward(self, x):
            seen.append(self.training)
            return x

    model, x, y = small_net(0)
    model.probe = Probe()
    original = model.forward
    model.forward = lambda x: model.probe(original(x))
    model.train()
    connection_sensitivity(model, x, y)
    assert seen == [False] and model.training


@given(scores=st.lists(st.lists(st.sampled_from([0.0, 0.5, 1.0, 2.0]), min_size=1, max_size=8),
                       min_size=1, max_size=4), data=st.data())
def test_top_kappa_keeps_exactly_kappa_with_lower_index_winning_ties(scores, data):
    arrays = [np.array(s) for s in scores]
    m = sum(a.size for a in arrays)
    kappa = data.draw(st.integers(0, m))
    keep = top_kappa(arrays, kappa)
    flat_keep = np.concatenate([k.ravel() for k in keep])
    flat = np.concatenate(arrays)
    assert flat_keep.sum() == kappa
    if 0 < kappa < m:
        assert flat[flat_keep].min() >= flat[~flat_keep].max()
        threshold = flat[flat_keep].min()
        tied = np.flatnonzero(flat == threshold)
        kept_tied = np.flatnonzero(flat_keep & (flat == threshold))
        np.testing.assert_array_equal(kept_tied, tied[:len(kept_tied)])


def test_top_kappa_edge_cases():
    zeros = [np.zeros((2, 3)), np.zeros(4)]
    assert sum(k.sum() for k in top_kappa(zeros, 0)) == 0
    assert sum(k.sum() for k in top_kappa(zeros, 10)) == 10
    np.testing.assert_array_equal(top_kappa(zeros, 3)[0], [[1, 1, 1], [0, 0, 0]])
    with pytest.raises(ValueError, match="kappa"):
        top_kappa(zeros, 11)
    with pytest.raises(ValueError, match="NaN"):
        top_kappa([np.array([np.nan, 1.0])], 1)


@pytest.mark.parametrize("bad", [1.0, -0.1, float("nan"), 1.5, True, "0.9", None])
def test_sparsity_errors(bad):
    with pytest.raises(ValueError):
        kappa_from(100, sparsity=bad)


def test_kappa_from():
    assert kappa_from(1000, sparsity=0.95) == 50
    assert kappa_from(1000, sparsity=0) == 1000
    assert kappa_from(1000, kappa=7) == 7
    with pytest.raises(ValueError, match="exactly one"):
        kappa_from(1000, sparsity=0.5, kappa=3)
    with pytest.raises(ValueError, match="kappa"):
        kappa_from(1000, kappa=1001)


@pytest.mark.parametrize("method", sorted(PRUNERS))
def test_every_pruner_keeps_exactly_kappa_and_zeroes_weights(method):
    model, x, y = small_net(3, sizes=(6, 5, 4))
    report = prune(model, x, y, sparsity=0.6, method=method, rng=0)
    m = 6 * 5 + 5 * 4
    assert report.kept == round(0.4 * m) and report.prunable == m
    for _, w, c in model.named_masks():
        assert np.all(w.data[c.data == 0] == 0)
    assert "all prunable" in report.table()
    assert report.to_dict()["kept"] == report.kept


def test_shuffled_keeps_per_layer_counts_and_inverted_keeps_least_sensitive():
    model, x, y = small_net(4, sizes=(6, 5, 4))
    sens = connection_sensitivity(model, x, y)
    kappa = 20
    snip_masks = PRUNERS["snip"](model, x, y, kappa, np.random.default_rng(0))
    shuffled = PRUNERS["snip-shuffled"](model, x, y, kappa, np.random.default_rng(0))
    assert [m.sum() for m in snip_masks] == [m.sum() for m in shuffled]
    inverted = PRUNERS["snip-inverted"](model, x, y, kappa, np.random.default_rng(0))
    flat_s = np.concatenate([s.ravel() for s in sens.s])
    flat_inv = np.concatenate([m.ravel() for m in inverted])
    assert flat_s[flat_inv].max() <= flat_s[~flat_inv].min()


def test_bias_option_removes_all_zero_biases():
    model, x, y = small_net(5)
    for layer in model.layers:
        layer.bias.data[...] = 0
    report = prune(model, x, y, sparsity=0.5, include_bias=True)
    names = [layer.name for layer in report.layers]
    assert "layers.0.bias" in names
    assert all(layer.kept == 0 for layer in report.layers if layer.name.endswith("bias"))


def test_cut_off_layer_warns():
    model, x, y = small_net(6, sizes=(30, 2, 3))
    with pytest.warns(RuntimeWarning, match="cut off entirely"):
        report = prune(model, x, y, kappa=3, method="magnitude")
    assert report.warnings


def test_effective_sparsity_on_a_hand_built_chain():
    a = np.array([[1, 1, 0], [0, 0, 0]], bool)     # unit 1 of the hidden layer has no input
    b = np.array([[1, 1], [0, 1]], bool)           # so connections out of unit 1 are useless
    assert effective_kept([("a", a), ("b", b)]) == 3  # a: 2, b: only [0, 0]
    # conv (2 channels) -> flatten (2 * 4 inputs) -> fc
    conv = np.zeros((2, 1, 3, 3), bool)
    conv[0] = True
    fc = np.ones((5, 8), bool)
    assert effective_kept([("conv", conv), ("fc", fc)]) == 9 + 5 * 4
    assert effective_kept([("x", np.ones((3, 2), bool)), ("y", np.ones((4, 5), bool))]) is None
