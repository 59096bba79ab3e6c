"""The pruners beside SNIP (pruners.py): one contract for all (exactly kappa, one boolean mask
per layer in named_masks order), and what makes each one what it is."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from minisnip.pruners import PRUNERS
from minisnip.snip import connection_sensitivity, prune

from .test_snip import one_numba_thread, small_net  # noqa: F401 (autouse fixture)


def _flat(masks):
    return np.concatenate([np.asarray(m).ravel() for m in masks])


def test_registry_names():
    assert set(PRUNERS) == {"snip", "random", "magnitude", "snip-shuffled", "snip-reinit",
                            "snip-inverted"}


@settings(max_examples=10)
@given(method=st.sampled_from(sorted(PRUNERS)), seed=st.integers(0, 1000), data=st.data())
def test_every_pruner_returns_exactly_kappa_in_layer_order(method, seed, data):
    model, x, y = small_net(seed, sizes=(4, 3, 3))
    shapes = [c.shape for _, _, c in model.named_masks()]
    m = sum(int(np.prod(s)) for s in shapes)
    kappa = data.draw(st.integers(0, m))
    masks = PRUNERS[method](model, x, y, kappa, np.random.default_rng(seed))
    assert [k.shape for k in masks] == shapes
    assert all(k.dtype == bool for k in masks)
    assert _flat(masks).sum() == kappa


@pytest.mark.parametrize("method", sorted(PRUNERS))
def test_prune_with_every_method_keeps_exactly_kappa_and_zeroes_weights(method):
    model, x, y = small_net(3, sizes=(6, 5, 4))
    report = prune(model, x, y, sparsity=0.6, method=method, rng=0)
    m = 6 * 5 + 5 * 4
    assert report.kept == round(0.4 * m) and report.prunable == m and report.method == method
    for _, w, c in model.named_masks():
        assert np.all(w.data[c.data == 0] == 0)
    assert "all prunable" in report.table()
    assert report.to_dict()["kept"] == report.kept


def test_snip_keeps_the_largest_sensitivities():
    model, x, y = small_net(4, sizes=(6, 5, 4))
    s = connection_sensitivity(model, x, y).flat()
    keep = _flat(PRUNERS["snip"](model, x, y, 17, np.random.default_rng(0)))
    assert s[keep].min() >= s[~keep].max()


def test_magnitude_keeps_the_largest_weights():
    model, x, y = small_net(5, sizes=(6, 5, 4))
    w = np.abs(_flat([w.data for _, w, _ in model.named_masks()]))
    keep = _flat(PRUNERS["magnitude"](model, x, y, 11, np.random.default_rng(0)))
    assert w[keep].min() >= w[~keep].max()


def test_random_is_seeded_and_spreads_over_layers():
    model, x, y = small_net(6, sizes=(20, 20, 10))
    a = PRUNERS["random"](model, x, y, 300, np.random.default_rng(1))
    b = PRUNERS["random"](model, x, y, 300, np.random.default_rng(1))
    c = PRUNERS["random"](model, x, y, 300, np.random.default_rng(2))
    assert all(np.array_equal(u, v) for u, v in zip(a, b))
    assert not all(np.array_equal(u, v) for u, v in zip(a, c))
    densities = [k.mean() for k in a]            # 300 of 600: about half of each layer
    assert all(0.35 < d < 0.65 for d in densities)


def test_shuffled_keeps_per_layer_counts_but_not_the_positions():
    model, x, y = small_net(7, sizes=(8, 6, 4))
    snip_masks = PRUNERS["snip"](model, x, y, 20, np.random.default_rng(0))
    shuffled = PRUNERS["snip-shuffled"](model, x, y, 20, np.random.default_rng(0))
    assert [m.sum() for m in snip_masks] == [m.sum() for m in shuffled]
    assert not all(np.array_equal(a, b) for a, b in zip(snip_masks, shuffled))


def test_inverted_keeps_the_least_sensitive():
    model, x, y = small_net(8, sizes=(6, 5, 4))
    s = connection_sensitivity(model, x, y).flat()
    keep = _flat(PRUNERS["snip-inverted"](model, x, y, 20, np.random.default_rng(0)))
    assert s[keep].max() <= s[~keep].min()


def test_reinit_keeps_the_snip_mask_and_draws_fresh_weights():
    model, x, y = small_net(9, sizes=(6, 5, 4))
    before = [w.data.copy() for _, w, _ in model.named_masks()]
    biases = [layer.bias.data.copy() for layer in model.layers]
    snip_masks = PRUNERS["snip"](model, x, y, 20, np.random.default_rng(0))
    masks = PRUNERS["snip-reinit"](model, x, y, 20, np.random.default_rng(0))
    assert all(np.array_equal(a, b) for a, b in zip(snip_masks, masks))
    for old, (_, w, _) in zip(before, model.named_masks()):
        assert not np.any(old == w.data)
        # same scheme (vs-x by default): Glorot normal std sqrt(2 / (fan_in + fan_out))
        assert 0.3 < w.data.std() / np.sqrt(2 / sum(w.shape)) < 2.0
    assert all(np.array_equal(b, layer.bias.data) for b, layer in zip(biases, model.layers))


def test_prune_refuses_a_pruner_that_breaks_the_contract(monkeypatch):
    model, x, y = small_net(10)
    monkeypatch.setitem(PRUNERS, "broken",
                        lambda model, x, y, kappa, rng, loss_fn=None:
                        [np.ones(c.shape, bool) for _, _, c in model.named_masks()])
    with pytest.raises(RuntimeError, match="exactly"):
        prune(model, x, y, sparsity=0.5, method="broken")
