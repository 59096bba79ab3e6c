"""Iterative pruning (pai/iterative.py) and its two data-driven methods (pai/force.py):
the exponential schedule, iterative SNIP never reviving a pruned connection, FORCE ranking
every connection with the gradient of the pruned network, and both starting as SNIP."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from minisnip import snip
from minisnip.pai.iterative import Iterative, exponential_schedule, prune_iteratively
from minisnip.pruners import ITERATIVE, prune
from minisnip.snip import connection_sensitivity, top_kappa

from .test_snip import loss_with_masks, one_numba_thread, small_net  # noqa: F401 (fixture)


def _flat(arrays):
    return np.concatenate([np.asarray(a).ravel() for a in arrays])


def _masks(model):
    return [c.data.copy() for _, _, c in model.named_masks()]


def rounds_of(method, model, x, y, kappa, rounds, inverted=False):
    """Every round's (k_t, keep) of ``method`` (a name of ITERATIVE)."""
    seen = []
    keep = prune_iteratively(ITERATIVE[method], model, (x, y), np.random.default_rng(0), None,
                             kappa, rounds=rounds, inverted=inverted,
                             on_round=lambda t, k, keep: seen.append((k, keep)))
    assert all(np.array_equal(a, b) for a, b in zip(keep, seen[-1][1]))
    return seen


# ------------------------------------------------------------------- the schedule
@given(m=st.integers(1, 10**7), data=st.data(), rounds=st.integers(1, 200))
def test_exponential_schedule_goes_from_m_to_exactly_kappa_by_a_constant_fraction(m, data,
                                                                                  rounds):
    kappa = data.draw(st.integers(0, m))
    counts = exponential_schedule(m, kappa, rounds)
    assert len(counts) == rounds and counts[-1] == kappa
    assert all(a >= b for a, b in zip([m] + counts, counts))          # never grows back
    assert all(kappa <= k <= m for k in counts)
    for t, k in enumerate(counts[:-1], start=1):                       # k_t = m (kappa/m)^(t/T)
        assert abs(k - m * (kappa / m) ** (t / rounds)) <= 0.5 + 1e-9 * m


def test_exponential_schedule_examples_and_errors():
    assert exponential_schedule(1000, 10, 2) == [100, 10]       # 10x, then 10x again
    assert exponential_schedule(1000, 10, 1) == [10]
    assert exponential_schedule(1000, 1000, 3) == [1000] * 3
    assert exponential_schedule(1000, 0, 3) == [0, 0, 0]
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match="rounds"):
            exponential_schedule(10, 5, bad)


def test_default_rounds_are_the_papers():
    assert ITERATIVE["synflow"].rounds == 100
    assert ITERATIVE["iter-snip"].rounds == ITERATIVE["force"].rounds == 60
    assert not ITERATIVE["synflow"].revives and not ITERATIVE["iter-snip"].revives
    assert ITERATIVE["force"].revives
    model, x, y = small_net(0, sizes=(4, 3, 3))
    assert len(rounds_of("synflow", model, x, y, 5, None)) == 100


def test_rounds_are_refused_for_a_single_shot_method():
    model, x, y = small_net(0)
    with pytest.raises(ValueError, match="single-shot"):
        prune(model, x, y, kappa=5, method="snip", rounds=3)
    with pytest.raises(ValueError, match="rounds"):
        prune(model, x, y, kappa=5, method="force", rounds=0)


# ------------------------------------------------------------- the first round is SNIP
@settings(max_examples=15)
@given(seed=st.integers(0, 10_000), method=st.sampled_from(["iter-snip", "force"]),
       data=st.data())
def test_one_round_is_snip(seed, method, data):
    a, x, y = small_net(seed, sizes=(6, 5, 4))
    b, _, _ = small_net(seed, sizes=(6, 5, 4))
    kappa = data.draw(st.integers(0, 50))
    snip.prune(a, x, y, kappa=kappa)
    prune(b, x, y, kappa=kappa, method=method, rounds=1)
    assert all(np.array_equal(u, v) for u, v in zip(_masks(a), _masks(b)))


@settings(max_examples=15)
@given(seed=st.integers(0, 10_000), method=st.sampled_from(["iter-snip", "force"]),
       rounds=st.integers(2, 6))
def test_the_first_round_is_snip_at_k1(seed, method, rounds):
    """de Jorge et al.: at c = 1 both saliencies are SNIP's, so round 1 keeps SNIP's top k_1."""
    model, x, y = small_net(seed, sizes=(6, 5, 4))
    (k1, keep1), *_ = rounds_of(method, model, x, y, 6, rounds)
    expected = top_kappa(connection_sensitivity(model, x, y).s, k1)
    assert all(np.array_equal(u, v) for u, v in zip(keep1, expected))


# ------------------------------------------------------- later rounds: the definitions
@settings(max_examples=10)
@given(seed=st.integers(0, 10_000))
def test_each_later_round_ranks_the_pruned_networks_sensitivity(seed):
    """Round t+1 scores the network c_t * w. FORCE ranks |dL/dc| at c_t over *every*
    connection; iterative SNIP ranks |c_t * dL/dc| over the connections still kept."""
    model, x, y = small_net(seed, sizes=(6, 5, 4))
    for method in ("force", "iter-snip"):
        seen = rounds_of(method, model, x, y, 5, 4)
        for (_, before), (k, after) in zip(seen, seen[1:]):
            s = connection_sensitivity(model, x, y, at=before).s
            if method == "force":
                expected = top_kappa(s, k)
            else:
                expected = top_kappa([np.where(b, sj, -np.inf) for b, sj in zip(before, s)], k)
            assert all(np.array_equal(u, v) for u, v in zip(after, expected)), method


@settings(max_examples=6)
@given(seed=st.integers(0, 10_000))
def test_force_saliency_of_a_pruned_connection_is_its_effect_when_put_back(seed):
    """The FORCE saliency |w_j dL/dtheta_j| at theta = c * w, for a pruned j too: checked by
    central differences of the loss in c_j around the pruned network (c_j = 0 for pruned)."""
    model, x, y = small_net(seed, sizes=(4, 3, 3))
    keep = top_kappa(connection_sensitivity(model, x, y).s, 10)
    scores = ITERATIVE["force"].score(model, (x, y), None, None, keep)
    g = connection_sensitivity(model, x, y, at=keep).g
    total = sum(np.abs(gj).sum() for gj in g)
    eps = 1e-6
    pruned_seen = 0
    for layer, s in enumerate(scores):
        for j in np.ndindex(s.shape):
            plus = [k.astype(float) for k in keep]
            minus = [k.astype(float) for k in keep]
            plus[layer][j] += eps
            minus[layer][j] -= eps
            numeric = (loss_with_masks(model, x, y, plus)
                       - loss_with_masks(model, x, y, minus)) / (2 * eps)
            assert abs(abs(numeric) / total - s[j]) <= 1e-6 * (abs(numeric) / total) + 1e-9
            pruned_seen += not keep[layer][j]
    assert pruned_seen == 4 * 3 + 3 * 3 - 10
    assert any(np.any(s[~k] > 0) for s, k in zip(scores, keep))   # pruned ones can rank


# ------------------------------------------------------------------------- revival
@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), method=st.sampled_from(["iter-snip", "synflow"]),
       inverted=st.booleans(), kappa=st.integers(1, 12))
def test_methods_without_revival_only_ever_shrink_the_mask(seed, method, inverted, kappa):
    """Each round's mask lies inside the previous one, inverted or not: a pruned connection
    scores 0 (iterative SNIP, SynFlow), which must not let it win a tie, nor rank first once
    the scores are negated. ReLU networks at high sparsity have remaining connections whose
    score is 0 too (dead units), which is where a lax rule would bring pruned ones back."""
    model, x, y = small_net(seed, sizes=(8, 6, 5, 3), act="relu")
    seen = rounds_of(method, model, x, y, kappa, 12, inverted=inverted)
    for (_, before), (k, after) in zip(seen, seen[1:]):
        assert all(not np.any(a & ~b) for a, b in zip(after, before))
        assert sum(int(a.sum()) for a in after) == k


def test_force_does_revive():
    """FORCE lets a connection pruned in an earlier round come back, on the strength of its
    own saliency (not merely by winning a tie at 0)."""
    revived = 0
    for seed in range(5):
        model, x, y = small_net(seed, sizes=(8, 6, 5, 3), act="relu")
        seen = rounds_of("force", model, x, y, 6, 8)
        for (_, before), (_, after) in zip(seen, seen[1:]):
            scores = ITERATIVE["force"].score(model, (x, y), None, None, before)
            revived += sum(int(np.sum((a & ~b) & (s > 0)))
                           for a, b, s in zip(after, before, scores))
    assert revived > 0


def test_inverted_iterative_method_keeps_the_lowest_at_every_round():
    model, x, y = small_net(3, sizes=(6, 5, 4))
    for method in ("force", "iter-snip"):
        seen = rounds_of(method, model, x, y, 8, 3, inverted=True)
        k1, keep1 = seen[0]
        s = connection_sensitivity(model, x, y).s
        expected = top_kappa([-sj for sj in s], k1)
        assert all(np.array_equal(u, v) for u, v in zip(keep1, expected))
        before, (k2, after) = seen[0][1], seen[1]
        s = connection_sensitivity(model, x, y, at=before).s
        if method == "force":
            expected = top_kappa([-sj for sj in s], k2)
        else:
            expected = top_kappa([np.where(b, -sj, -np.inf) for b, sj in zip(before, s)], k2)
        assert all(np.array_equal(u, v) for u, v in zip(after, expected))


# --------------------------------------------------------------------- the loop itself
def test_the_loop_refuses_bad_scores_and_leaves_the_model_alone():
    model, x, y = small_net(1)
    before = [w.data.copy() for _, w, _ in model.named_masks()]
    bad = Iterative(lambda m, b, r, l, keep: [np.full(k.shape, np.nan) for k in keep],
                    revives=False, rounds=3, paper="a test")
    with pytest.raises(ValueError, match="round 1: the scores of layers.0.weight are not finite"):
        prune_iteratively(bad, model, (x, y), None, None, 5)
    short = Iterative(lambda m, b, r, l, keep: keep[:1], revives=True, rounds=2, paper="a test")
    with pytest.raises(ValueError, match="1 score arrays for 2 prunable layers"):
        prune_iteratively(short, model, (x, y), None, None, 5)
    keep = prune_iteratively(ITERATIVE["force"], model, (x, y), None, None, 7, rounds=3)
    assert sum(int(k.sum()) for k in keep) == 7
    assert all(np.array_equal(a, w.data) for a, (_, w, _) in zip(before, model.named_masks()))
    assert all(np.all(c.data == 1) for _, _, c in model.named_masks())


def test_rounds_whose_scores_are_all_zero_are_said_once():
    """Inverted iterative SNIP cuts the network early; the later rounds see only zeros. One
    warning says so (not connection_sensitivity's "were the weights initialized?" per round)."""
    import warnings
    model, x, y = small_net(0, sizes=(6, 5, 4), act="relu")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        prune(model, x, y, kappa=3, method="iter-snip-inverted", rounds=5)
    messages = [str(w.message) for w in caught]
    assert sum("iterative pruning: in 2 of 5 rounds (the first: round 4)" in m
               for m in messages) == 1
    assert not any("were the weights initialized" in m for m in messages)
