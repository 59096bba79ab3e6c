"""GraSP (pai/grasp.py) validated in float64: g and H g against the closed-form Hessian of
softmax regression and against the Hessian of a two-layer network built from second
differences of the loss alone; the score theta * Hg and its sign (the kept weights are the
ones the paper does not remove); inversion by negation; float32 models computed in float64."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from minisnip import Tensor, functional as F, nn
from minisnip.pai.grasp import TEMPERATURE, grasp_scores, hessian_gradient_product
from minisnip.pruners import prune

from .test_snip import one_numba_thread, small_net  # noqa: F401 (autouse fixture)


def _flat(arrays):
    return np.concatenate([np.asarray(a).ravel() for a in arrays])


def softmax_regression(seed, d=4, k=3, n=7, dtype=np.float64):
    rng = np.random.default_rng(seed)
    model = nn.Linear(d, k, dtype=dtype)
    model.weight.data[...] = rng.standard_normal((k, d)) * 3     # logits of a few units / T
    model.bias.data[...] = rng.standard_normal(k)
    x = rng.standard_normal((n, d)) * 5
    y = rng.integers(0, k, n)
    return model, x, y


def softmax_regression_hessian(model, x, y, T):
    """L = mean_n CE((W x_n + b) / T, y_n): dL/dW = mean (p - e_y) x^T / T and
    H = mean_n kron(diag(p) - p p^T, x x^T) / T^2 over W flattened row-major."""
    W, b = model.weight.data, model.bias.data
    z = (x @ W.T + b) / T
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    onehot = np.eye(W.shape[0])[y]
    grad = (p - onehot).T @ x / (len(x) * T)
    H = sum(np.kron(np.diag(pn) - np.outer(pn, pn), np.outer(xn, xn)) for pn, xn in zip(p, x))
    return grad, H / (len(x) * T ** 2)


@pytest.mark.parametrize("T", [1.0, TEMPERATURE])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_g_and_hg_of_softmax_regression_are_the_closed_form(seed, T):
    model, x, y = softmax_regression(seed)
    theta, (g,), (hg,) = hessian_gradient_product(model, x, y, temperature=T)
    grad, H = softmax_regression_hessian(model, x, y, T)
    np.testing.assert_allclose(g, grad, rtol=1e-10, atol=1e-15)
    exact = (H @ grad.ravel()).reshape(grad.shape)
    np.testing.assert_allclose(hg, exact, rtol=1e-6, atol=1e-6 * np.abs(exact).max())
    np.testing.assert_array_equal(theta[0], model.weight.data)


def hessian_by_second_differences(model, x, y, T, h):
    """The Hessian of L(theta) = CE(f(x; theta) / T, y) in the prunable weights, from values
    of the loss only (no gradient code): D(h)_ij = [L(+i+j) - L(+i-j) - L(-i+j) + L(-i-j)] / 4h^2
    has error O(h^2), which Richardson's (4 D(h) - D(2h)) / 3 cancels (leaving O(h^4))."""
    weights = [w for _, w, _ in model.named_masks()]
    index = [(w, j) for w in weights for j in np.ndindex(w.shape)]

    def loss(*moves):
        saved = [w.data.copy() for w in weights]
        for (w, j), step in moves:
            w.data[j] += step
        value = F.cross_entropy(model(Tensor(x)) / T, y).item()
        for w, s in zip(weights, saved):
            w.data[...] = s
        return value

    def differences(h):
        n = len(index)
        D = np.zeros((n, n))
        for a in range(n):
            for b in range(a, n):
                D[a, b] = D[b, a] = (loss((index[a], h), (index[b], h))
                                     - loss((index[a], h), (index[b], -h))
                                     - loss((index[a], -h), (index[b], h))
                                     + loss((index[a], -h), (index[b], -h))) / (4 * h * h)
        return D

    return (4 * differences(h) - differences(2 * h)) / 3


@pytest.mark.parametrize("T", [1.0, TEMPERATURE])
@settings(max_examples=5, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_hg_and_the_scores_of_a_two_layer_net_against_its_explicit_hessian(seed, T):
    model, x, y = small_net(seed, sizes=(3, 4, 3))
    H = hessian_by_second_differences(model, x, y, T, h=1e-3 if T == 1 else 5e-3)
    theta, g, hg = hessian_gradient_product(model, x, y, temperature=T)
    exact = H @ _flat(g)
    np.testing.assert_allclose(_flat(hg), exact, rtol=1e-5, atol=1e-5 * np.abs(exact).max())
    scores = grasp_scores(model, (x, y), temperature=T)
    np.testing.assert_allclose(_flat(scores), _flat(theta) * exact, rtol=1e-5,
                               atol=1e-5 * np.abs(_flat(theta) * exact).max())


@settings(max_examples=10)
@given(seed=st.integers(0, 10_000), data=st.data())
def test_grasp_removes_the_largest_of_the_papers_score(seed, data):
    """The paper's S(-theta) = -theta * Hg (Eq. 8) ranks what to *remove*: the m - kappa
    largest S go. Here larger = keep, so the kept ones are the kappa smallest S."""
    model, x, y = small_net(seed, sizes=(5, 4, 3))
    theta, _, hg = hessian_gradient_product(model, x, y)
    paper = -_flat(theta) * _flat(hg)                        # S(-theta) of the paper
    kappa = data.draw(st.integers(1, paper.size - 1))
    prune(model, x, y, kappa=kappa, method="grasp")
    kept = _flat([c.data for _, _, c in model.named_masks()]).astype(bool)
    assert paper[~kept].min() >= paper[kept].max()           # removed: the largest S


def test_inverted_grasp_negates_the_signed_score():
    """Scores of both signs: the inverted ranking keeps the kappa smallest theta * Hg (the
    largest S, what the paper removes first). 1/x would not reverse a signed ranking."""
    model, x, y = small_net(5, sizes=(5, 4, 3))
    scores = _flat(grasp_scores(model, (x, y)))
    assert (scores > 0).any() and (scores < 0).any()
    prune(model, x, y, kappa=12, method="grasp-inverted")
    kept = _flat([c.data for _, _, c in model.named_masks()]).astype(bool)
    assert scores[kept].max() <= scores[~kept].min()


def test_a_float32_model_is_scored_in_float64():
    """The central difference needs float64: a float32 model is scored on a float64 copy, so
    its scores equal those of the same weights held in float64."""
    model32, x, y = softmax_regression(3, dtype=np.float32)
    model64 = nn.Linear(4, 3, dtype=np.float64)
    model64.weight.data[...] = model32.weight.data
    model64.bias.data[...] = model32.bias.data
    s32, s64 = grasp_scores(model32, (x, y)), grasp_scores(model64, (x.astype(np.float32), y))
    assert s32[0].dtype == np.float64
    np.testing.assert_allclose(s32[0], s64[0], rtol=1e-7, atol=1e-7 * np.abs(s64[0]).max())


def test_grasp_leaves_the_model_as_it_was():
    model, x, y = small_net(6)
    model.train()
    before = [p.data.copy() for p in model.parameters()]
    model.layers[0].c.data[0, 0] = 0
    grasp_scores(model, (x, y))
    assert model.training and model.layers[0].c.data[0, 0] == 0
    assert all(np.array_equal(a, p.data) for a, p in zip(before, model.parameters()))
    assert all(p.requires_grad and p.grad is None for p in model.parameters())
    with pytest.raises(ValueError, match="inputs and targets"):
        prune(model, kappa=3, method="grasp")
