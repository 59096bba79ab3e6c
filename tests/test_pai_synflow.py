"""SynFlow (pai/synflow.py) validated: R and the scores against the paths enumerated one by
one, the per-layer conservation (with biases and BatchNorm), float64 where float32 overflows
or underflows, the iterative rounds, and no data needed."""
import itertools

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from minisnip import nn
from minisnip.models import build_model
from minisnip.nn import init
from minisnip.pai.synflow import synaptic_flow, synflow_scores
from minisnip.pruners import ITERATIVE, prune
from minisnip.snip import top_kappa

from .test_pai_force import rounds_of
from .test_snip import one_numba_thread, small_net  # noqa: F401 (autouse fixture)


def _ones(model):
    return [np.ones(c.shape, dtype=bool) for _, _, c in model.named_masks()]


def paths(weights, keep):
    """R and each weight's flow by brute force: every path input -> output, one at a time."""
    sizes = [weights[0].shape[1]] + [w.shape[0] for w in weights]
    flow = [np.zeros(w.shape) for w in weights]
    total = 0.0
    for units in itertools.product(*[range(n) for n in sizes]):
        product = 1.0
        for layer, (w, k) in enumerate(zip(weights, keep)):
            a, b = units[layer + 1], units[layer]
            product *= abs(w[a, b]) * k[a, b]
        total += product
        for layer in range(len(weights)):
            flow[layer][units[layer + 1], units[layer]] += product
    return total, flow


@settings(max_examples=20)
@given(seed=st.integers(0, 10_000),
       sizes=st.lists(st.integers(1, 4), min_size=3, max_size=5).map(tuple),
       pruned=st.floats(0, 0.7))
def test_flow_and_scores_are_the_path_sums(seed, sizes, pruned):
    """R = sum over paths of prod |w|, and S_j = theta_j dR/dtheta_j = the sum over the paths
    through j: checked path by path on small ReLU networks (with nonzero biases, which
    SynFlow ignores), pruned at random or not."""
    model, x, _ = small_net(seed, sizes, act="relu")
    rng = np.random.default_rng(seed)
    keep = [rng.random(c.shape) >= pruned for _, _, c in model.named_masks()]
    weights = [w.data for _, w, _ in model.named_masks()]
    total, flow = paths(weights, keep)
    R, _ = synaptic_flow(model, keep, x.shape[1:])
    scores = synflow_scores(model, (x, None), None, None, keep)
    assert R == pytest.approx(total, rel=1e-12, abs=1e-300)
    for s, f, k in zip(scores, flow, keep):
        np.testing.assert_allclose(s, f, rtol=1e-12, atol=1e-300)
        assert np.all(s[~k] == 0)


def _conservation(model, input_shape, keep=None):
    keep = keep or _ones(model)
    R, _ = synaptic_flow(model, keep, input_shape)
    scores = synflow_scores(model, (np.zeros((1,) + input_shape), None), None, None, keep)
    return R, [float(s.sum()) for s in scores]


def test_every_layer_carries_the_whole_flow_in_lenet5_with_biases():
    """Conservation (Tanaka et al.): in a network homogeneous in each layer's weights (conv,
    ReLU, max pooling, linear) every layer's scores sum to R. Biases are set to 0 by the
    linearization: here they are nonzero in the model and must not add flow."""
    model = build_model("lenet5")
    init.initialize(model, "vs-x", rng=0)
    rng = np.random.default_rng(0)
    for _, module in model.named_modules():
        if module._parameters.get("bias") is not None:
            module.bias.data[...] = rng.standard_normal(module.bias.shape)
    keep = [rng.random(c.shape) < 0.3 for _, _, c in model.named_masks()]
    for k in (None, keep):
        R, sums = _conservation(model, (1, 28, 28), k)
        assert R > 0 and sums == pytest.approx([R] * len(sums), rel=1e-9)


class ConvBN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 3, 3)
        self.bn = nn.BatchNorm2d(3)
        self.pool = nn.MaxPool2d(2)
        self.fc = nn.Linear(3 * 3 * 3, 4)

    def forward(self, x):
        return self.fc(self.pool(self.bn(self.conv(x)).relu()).flatten(1))


def test_batchnorm_is_its_positive_scale_in_eval_mode():
    """BatchNorm with trained-looking statistics: running mean and beta (shifts) would add
    flow that starts nowhere and break the conservation, a negative gamma would flip signs;
    the linearization keeps |gamma| / sqrt(running_var + eps) and drops the shifts."""
    model = ConvBN()
    init.initialize(model, "vs-x", rng=1)
    rng = np.random.default_rng(1)
    model.bn.running_mean.data[...] = rng.standard_normal(3)
    model.bn.running_var.data[...] = rng.uniform(0.5, 2, 3)
    model.bn.weight.data[...] = [-1.5, 0.7, 2.0]
    model.bn.bias.data[...] = rng.standard_normal(3)
    model.train()
    R, sums = _conservation(model, (1, 8, 8))
    assert R > 0 and sums == pytest.approx([R, R], rel=1e-9)
    scores = synflow_scores(model, (np.zeros((1, 1, 8, 8)), None), None, None, _ones(model))
    assert np.all(scores[0] > 0)        # the channel with gamma < 0 carries flow too
    assert model.training and model.bn.weight.data[0] == np.float32(-1.5)   # the model is untouched


def deep_narrow(depth, width, scale, seed=0):
    """A float32 ReLU chain of ``depth`` square layers; returns it and its |W| in float64."""
    layers = []
    rng = np.random.default_rng(seed)
    for _ in range(depth):
        layer = nn.Linear(width, width)                      # float32, as every model here
        layer.weight.data[...] = rng.standard_normal((width, width)) * scale
        layers += [layer, nn.ReLU()]
    model = nn.Sequential(*layers[:-1])
    return model, [np.abs(w.data.astype(np.float64)) for _, w, _ in model.named_masks()]


@pytest.mark.parametrize("scale, problem", [(1.0, "overflow"), (0.02, "underflow")])
def test_float64_where_float32_overflows_or_underflows(scale, problem):
    model, weights = deep_narrow(depth=80 if problem == "overflow" else 40, width=4, scale=scale)
    v32 = np.ones(4, np.float32)
    with np.errstate(over="ignore", under="ignore"):
        for w in weights:
            v32 = w.astype(np.float32) @ v32
    assert (np.isinf(v32.sum()) if problem == "overflow" else v32.sum() == 0)  # float32 fails
    forward, backward = [np.ones(4)], [np.ones(4)]
    for w in weights:
        forward.append(w @ forward[-1])
    for w in reversed(weights):
        backward.insert(0, w.T @ backward[0])
    R = forward[-1].sum()                                   # 1^T |W_L| ... |W_1| 1
    expected = [np.outer(backward[l + 1], forward[l]) * w for l, w in enumerate(weights)]
    assert (R > 3.4e38) if problem == "overflow" else (0 < R < 1e-45)
    flow, _ = synaptic_flow(model, _ones(model), (4,))
    scores = synflow_scores(model, (np.zeros((1, 4)), None), None, None, _ones(model))
    assert flow == pytest.approx(R, rel=1e-10)
    for s, e in zip(scores, expected):
        np.testing.assert_allclose(s, e, rtol=1e-10)
        assert s.dtype == np.float64


# ------------------------------------------------------------------ the iterative method
@settings(max_examples=8, deadline=None)
@given(seed=st.integers(0, 10_000), kappa=st.integers(1, 30))
def test_each_round_keeps_the_top_flow_among_the_remaining(seed, kappa):
    model, x, y = small_net(seed, sizes=(6, 5, 4), act="relu")
    seen = rounds_of("synflow", model, x, y, kappa, 5)
    before = _ones(model)
    for k, after in seen:
        s = synflow_scores(model, (x, None), None, None, before)
        expected = top_kappa([np.where(b, sj, -np.inf) for b, sj in zip(before, s)], k)
        assert all(np.array_equal(u, v) for u, v in zip(after, expected))
        before = after


def test_synflow_needs_no_data_only_the_shape():
    a, x, y = small_net(4, sizes=(6, 5, 4), act="relu")
    b, _, _ = small_net(4, sizes=(6, 5, 4), act="relu")
    before = [w.data.copy() for _, w, _ in a.named_masks()]
    prune(a, x, y, kappa=12, method="synflow")
    prune(b, np.random.default_rng(9).standard_normal((1, 6)), None, kappa=12, method="synflow")
    masks = [c.data for _, _, c in a.named_masks()]
    assert all(np.array_equal(u, c.data) for u, (_, _, c) in zip(masks, b.named_masks()))
    for w0, (_, w, c) in zip(before, a.named_masks()):     # signs kept: only masks applied
        np.testing.assert_array_equal(w.data, w0 * c.data)
    with pytest.raises(ValueError, match="shape of one input"):
        prune(b, kappa=3, method="synflow")
    assert ITERATIVE["synflow"].rounds == 100
