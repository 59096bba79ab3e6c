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


# ------------------------------------------- ReLU and max pooling: PyTorch's double backward
def torch_theta_hg(forward, weights, x, y, T=TEMPERATURE):
    """theta * Hg by double backward in PyTorch (float64): Hg = d(g_fixed . dL/dtheta)/dtheta."""
    torch = pytest.importorskip("torch")
    W = [torch.tensor(w, dtype=torch.float64, requires_grad=True) for w in weights]
    loss = torch.nn.functional.cross_entropy(forward(torch, W, torch.tensor(x, dtype=torch.float64))
                                             / T, torch.tensor(y))
    g = torch.autograd.grad(loss, W, create_graph=True)
    hg = torch.autograd.grad(sum((gi * gi.detach()).sum() for gi in g), W)
    return [(w * h).detach().numpy() for w, h in zip(W, hg)]


def _agree(ours, reference, rtol=1e-6):
    for a, b in zip(ours, reference):
        assert np.linalg.norm(a - b) <= rtol * np.linalg.norm(b)


def test_grasp_on_lenet300_equals_pytorchs_double_backward():
    """The case that the textbook step got wrong (first-layer scores 80x too large: the step
    crossed ReLU kinks). Biases nonzero so that they enter the forward."""
    from minisnip.data import prepare
    from minisnip.models import build_model
    from minisnip.nn import init
    data = prepare("fashion-mini", layout="flat", seed=0)
    x, y = data.x_train[:100], data.y_train[:100]
    model = build_model("lenet300")
    init.initialize(model, "vs-x", rng=0)
    layers = [model.fc1, model.fc2, model.fc3]
    rng = np.random.default_rng(1)
    for layer in layers:
        layer.bias.data[...] = rng.standard_normal(layer.bias.shape) * 0.1
    b = [layer.bias.data.astype(np.float64) for layer in layers]

    def forward(torch, W, X):
        h = torch.relu(X @ W[0].T + torch.tensor(b[0]))
        h = torch.relu(h @ W[1].T + torch.tensor(b[1]))
        return h @ W[2].T + torch.tensor(b[2])
    reference = torch_theta_hg(forward, [layer.weight.data for layer in layers], x, y)
    _agree(grasp_scores(model, (x, y)), reference)


def test_grasp_on_lenet5_with_max_pooling_equals_pytorchs_double_backward():
    from minisnip.data import prepare
    from minisnip.models import build_model
    from minisnip.nn import init
    data = prepare("fashion-mini", layout="image", seed=0)
    x, y = data.x_train[:8], data.y_train[:8]
    model = build_model("lenet5")
    init.initialize(model, "vs-x", rng=2)
    names = ["conv1", "conv2", "fc3", "fc4"]
    b = [getattr(model, n).bias.data.astype(np.float64) for n in names]

    def forward(torch, W, X):
        F = torch.nn.functional
        h = F.max_pool2d(F.conv2d(X, W[0], torch.tensor(b[0])), 2)
        h = F.max_pool2d(F.conv2d(h, W[1], torch.tensor(b[1])), 2)
        h = torch.relu(F.linear(h.flatten(1), W[2], torch.tensor(b[2])))
        return F.linear(h, W[3], torch.tensor(b[3]))
    reference = torch_theta_hg(forward, [getattr(model, n).weight.data for n in names], x, y)
    _agree(grasp_scores(model, (x, y)), reference)


def test_a_relu_input_a_hair_from_its_kink_does_not_spoil_hg():
    """Example 0's input to hidden unit 0 is 1e-9: the first step crosses the kink (the
    gradient jumps), the halved steps do not, and the estimate settles on the exact Hg."""
    model, x, y = small_net(3, sizes=(5, 6, 3), act="relu", batch=10)
    first = model.layers[0]
    first.bias.data[0] = -first.weight.data[0] @ x[0] + 1e-9
    W1, b1 = first.weight.data, first.bias.data
    W2, b2 = model.layers[1].weight.data, model.layers[1].bias.data
    assert 0 < (W1 @ x[0] + b1)[0] < 2e-9

    def forward(torch, W, X):
        return torch.relu(X @ W[0].T + torch.tensor(b1)) @ W[1].T + torch.tensor(b2)
    reference = torch_theta_hg(forward, [W1, W2], x, y)
    _agree(grasp_scores(model, (x, y)), reference)


def test_a_relu_input_exactly_at_its_kink_is_an_error_not_a_wrong_score():
    """At the kink itself every step crosses it: the estimate never settles, and GraSP says
    so instead of returning a garbage score."""
    model, x, y = small_net(3, sizes=(5, 6, 3), act="relu", batch=10)
    first = model.layers[0]
    x[0] = [0, 2.0, 0, 0, 0]                    # one pixel, so no rounding in the sum:
    first.bias.data[0] = -(first.weight.data[0, 1] * 2.0)   # unit 0's input is exactly 0
    with pytest.raises(ValueError, match="did not settle"):
        grasp_scores(model, (x, y))
