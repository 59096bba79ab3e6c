"""Pruning at initialization on one interface (pruners.py): every method keeps exactly kappa
through the shared selection, equals SNIP for "snip", and each sanity check does what it says."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from minisnip import pruners, snip
from minisnip.pruners import ITERATIVE, SCORERS, methods, parse_method, prune, shuffle_within_layers
from minisnip.snip import connection_sensitivity

from .test_snip import one_numba_thread, small_net  # noqa: F401 (autouse fixture)


def _flat(arrays):
    return np.concatenate([np.asarray(a).ravel() for a in arrays])


def _masks(model):
    return [c.data.copy() for _, _, c in model.named_masks()]


BASES = list(SCORERS) + list(ITERATIVE)


def test_method_names_and_parsing():
    assert {"snip", "random", "magnitude", "grasp"} <= set(SCORERS)
    assert {"synflow", "iter-snip", "force"} <= set(ITERATIVE)
    assert {"snip-shuffled", "snip-reinit", "snip-inverted", "magnitude-inverted",
            "grasp-inverted", "synflow-shuffled", "iter-snip-reinit", "force-inverted"} <= set(methods())
    assert parse_method("snip-inverted") == ("snip", "inverted")
    assert parse_method("magnitude") == ("magnitude", None)
    assert parse_method("iter-snip") == ("iter-snip", None)
    assert parse_method("iter-snip-inverted") == ("iter-snip", "inverted")
    for bad in ("snap", "snip-upside-down", "inverted", "", "iter", "iter-snip-shuffled-inverted"):
        with pytest.raises(ValueError, match="unknown pruning method"):
            parse_method(bad)


@settings(max_examples=10)
@given(method=st.sampled_from(methods()), seed=st.integers(0, 1000), data=st.data())
def test_every_method_keeps_exactly_kappa_in_layer_order(method, seed, data):
    model, x, y = small_net(seed, sizes=(4, 3, 3))
    shapes = [c.shape for _, _, c in model.named_masks()]
    m = sum(int(np.prod(s)) for s in shapes)
    kappa = data.draw(st.integers(0, m))
    report = prune(model, x, y, kappa=kappa, method=method, rng=seed)
    masks = _masks(model)
    assert [k.shape for k in masks] == shapes and report.kept == kappa
    assert _flat(masks).sum() == kappa and set(np.unique(_flat(masks))) <= {0.0, 1.0}
    for _, w, c in model.named_masks():
        assert np.all(w.data[c.data == 0] == 0)


@pytest.mark.parametrize("base", BASES)
@settings(max_examples=6, deadline=None)
@given(seed=st.integers(0, 1000), inverted=st.booleans(), data=st.data())
def test_each_method_keeps_exactly_kappa_for_any_kappa(base, seed, inverted, data):
    """Exactly kappa for every method, iterative ones included (every round's k_t is asserted
    inside the loop), on ReLU networks whose dead units tie many scores at 0."""
    model, x, y = small_net(seed, sizes=(5, 4, 3), act="relu")
    kappa = data.draw(st.integers(0, 5 * 4 + 4 * 3))
    method = base + ("-inverted" if inverted else "")
    report = prune(model, x, y, kappa=kappa, method=method, rng=seed)
    assert _flat(_masks(model)).sum() == kappa == report.kept


@pytest.mark.parametrize("method", methods())
def test_prune_with_every_method_reports_and_zeroes_weights(method):
    model, x, y = small_net(3, sizes=(6, 5, 4))
    report = prune(model, x, y, sparsity=0.6, method=method, rng=0)
    m = 6 * 5 + 5 * 4
    assert report.kept == round(0.4 * m) and report.prunable == m and report.method == method
    for _, w, c in model.named_masks():
        assert np.all(w.data[c.data == 0] == 0)
    assert "all prunable" in report.table()
    assert report.to_dict()["kept"] == report.kept


def test_snip_method_equals_algorithm_1_of_snip_py():
    a, x, y = small_net(4, sizes=(6, 5, 4))
    b, _, _ = small_net(4, sizes=(6, 5, 4))
    snip.prune(a, x, y, sparsity=0.7)
    prune(b, x, y, sparsity=0.7, method="snip", rng=0)
    assert all(np.array_equal(u, v) for u, v in zip(_masks(a), _masks(b)))


def test_snip_keeps_the_largest_sensitivities():
    model, x, y = small_net(4, sizes=(6, 5, 4))
    s = connection_sensitivity(model, x, y).flat()
    prune(model, x, y, kappa=17, method="snip")
    keep = _flat(_masks(model)).astype(bool)
    assert s[keep].min() >= s[~keep].max()


def test_magnitude_keeps_the_largest_weights():
    model, x, y = small_net(5, sizes=(6, 5, 4))
    w = np.abs(_flat([w.data for _, w, _ in model.named_masks()]))
    prune(model, x, y, kappa=11, method="magnitude")
    keep = _flat(_masks(model)).astype(bool)
    assert w[keep].min() >= w[~keep].max()


def test_random_is_seeded_and_spreads_over_layers():
    def masks(seed):
        model, x, y = small_net(6, sizes=(20, 20, 10))
        prune(model, x, y, kappa=300, method="random", rng=seed)
        return _masks(model)
    a, b, c = masks(1), masks(1), masks(2)
    assert all(np.array_equal(u, v) for u, v in zip(a, b))
    assert not all(np.array_equal(u, v) for u, v in zip(a, c))
    assert all(0.35 < k.mean() < 0.65 for k in a)      # 300 of 600: about half of each layer


@pytest.mark.parametrize("base", BASES)
def test_shuffled_keeps_per_layer_counts_but_not_the_positions(base):
    plain, x, y = small_net(7, sizes=(8, 6, 4))
    shuffled, _, _ = small_net(7, sizes=(8, 6, 4))
    prune(plain, x, y, kappa=20, method=base, rng=0)
    prune(shuffled, x, y, kappa=20, method=f"{base}-shuffled", rng=0)
    a, b = _masks(plain), _masks(shuffled)
    assert [m.sum() for m in a] == [m.sum() for m in b]
    assert not all(np.array_equal(u, v) for u, v in zip(a, b))


def test_shuffling_is_random_pruning_with_the_same_per_layer_densities():
    """Frankle et al.'s baseline draws k_l of a layer's n_l positions uniformly; a shuffled
    mask must be that distribution: every one of the C(6, 3) = 20 subsets about equally often
    (a chi-square test at a false-alarm rate of about 1e-6), counts exact in every layer."""
    keep = [np.array([True, True, True, False, False, False]), np.array([[True], [False]])]
    rng = np.random.default_rng(0)
    counts, draws = {}, 6000
    for _ in range(draws):
        first, second = shuffle_within_layers(keep, rng)
        assert first.sum() == 3 and second.sum() == 1 and second.shape == (2, 1)
        counts[tuple(first)] = counts.get(tuple(first), 0) + 1
    assert len(counts) == 20
    expected = draws / 20
    chi2 = sum((n - expected) ** 2 / expected for n in counts.values())
    assert chi2 < 55      # chi-square with 19 degrees of freedom: P(> 55) ~ 2e-5


def test_inverted_keeps_the_least_sensitive():
    model, x, y = small_net(8, sizes=(6, 5, 4))
    s = connection_sensitivity(model, x, y).flat()
    prune(model, x, y, kappa=20, method="snip-inverted")
    keep = _flat(_masks(model)).astype(bool)
    assert s[keep].max() <= s[~keep].min()


@pytest.mark.parametrize("base", list(ITERATIVE))
def test_inverted_iterative_method_is_inverted_at_every_round(base):
    """prune(method="M-inverted") runs M's rounds keeping the lowest scores at every round
    (pai/iterative.py; the rounds themselves are tested in test_pai_force)."""
    from minisnip.pai.iterative import prune_iteratively
    model, x, y = small_net(12, sizes=(6, 5, 4), act="relu")
    expected = prune_iteratively(ITERATIVE[base], model, (x, y), None, None, 15, rounds=4,
                                 inverted=True)
    plain = prune_iteratively(ITERATIVE[base], model, (x, y), None, None, 15, rounds=4)
    prune(model, x, y, kappa=15, method=f"{base}-inverted", rounds=4)
    assert all(np.array_equal(u, v) for u, v in zip(_masks(model), expected))
    assert not all(np.array_equal(u, v) for u, v in zip(expected, plain))


@pytest.mark.parametrize("base", BASES)
def test_reinit_keeps_every_methods_mask(base):
    plain, x, y = small_net(9, sizes=(6, 5, 4))
    model, _, _ = small_net(9, sizes=(6, 5, 4))
    prune(plain, x, y, kappa=20, method=base, rng=3)
    prune(model, x, y, kappa=20, method=f"{base}-reinit", rng=3)
    assert all(np.array_equal(u, v) for u, v in zip(_masks(plain), _masks(model)))
    kept = [c.data == 1 for _, _, c in model.named_masks()]
    assert not any(np.any(w.data[k] == u.data[k]) for k, (_, w, _), (_, u, _)
                   in zip(kept, model.named_masks(), plain.named_masks()))


@pytest.mark.parametrize("scheme", ["vs-x", "rn"])
def test_reinit_keeps_the_mask_and_draws_fresh_weights_from_the_models_scheme(scheme):
    from minisnip.nn import init
    plain, x, y = small_net(9, sizes=(6, 5, 4))
    model, _, _ = small_net(9, sizes=(6, 5, 4))
    init.initialize(plain, scheme, rng=0)
    init.initialize(model, scheme, rng=0)
    before = [w.data.copy() for _, w, _ in model.named_masks()]
    biases = [layer.bias.data.copy() for layer in model.layers]
    prune(plain, x, y, kappa=20, method="snip")
    prune(model, x, y, kappa=20, method="snip-reinit", rng=1)   # not the init's stream
    assert all(np.array_equal(u, v) for u, v in zip(_masks(plain), _masks(model)))
    for old, (_, w, c) in zip(before, model.named_masks()):
        kept = c.data == 1
        assert not np.any(old[kept] == w.data[kept]) and np.all(w.data[~kept] == 0)
    w = model.layers[0].weight.data[model.layers[0].c.data == 1]
    std = 0.1 if scheme == "rn" else np.sqrt(2 / (6 + 5))   # RN: 0.1; VS-X: Glorot normal
    assert 0.5 < w.std() / std < 1.6
    assert all(np.array_equal(b, layer.bias.data) for b, layer in zip(biases, model.layers))


def test_reinit_refuses_a_model_without_a_known_scheme():
    model, x, y = small_net(9)
    del model.init_scheme
    with pytest.raises(ValueError, match="initialization"):
        prune(model, x, y, kappa=5, method="snip-reinit")
    assert all(np.all(c == 1) for c in _masks(model))   # refused before anything changed
    prune(model, x, y, kappa=5, method="snip-reinit", init_scheme="tn")


def test_selection_is_shared_and_asserts_exactly_kappa(monkeypatch):
    """A scorer only returns scores; the one selection (snip.top_kappa) decides."""
    model, x, y = small_net(10)
    monkeypatch.setitem(SCORERS, "constant",
                        lambda model, batch, rng, loss_fn=None:
                        [np.ones(c.shape) for _, _, c in model.named_masks()])
    prune(model, x, y, kappa=4, method="constant")
    keep = _flat(_masks(model))
    np.testing.assert_array_equal(keep, np.arange(keep.size) < 4)   # ties: lower index wins
    assert pruners.top_kappa is snip.top_kappa
