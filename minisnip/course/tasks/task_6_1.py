"""Task 6.1: R and the SynFlow scores against the paths, enumerated one by one."""
import itertools

import numpy as np

from minisnip import nn
from minisnip.pai.synflow import synaptic_flow, synflow_scores


def _net(seed=0):
    rng = np.random.default_rng(seed)
    model = nn.Sequential(nn.Linear(3, 2, bias=False), nn.ReLU(), nn.Linear(2, 2, bias=False))
    for layer in (model[0], model[2]):
        layer.weight.data[...] = rng.standard_normal(layer.weight.shape)
    return model


def _paths(w1, w2):
    """R and the flow through each weight, from every input-hidden-output path."""
    a, b = np.abs(w1.astype(np.float64)), np.abs(w2.astype(np.float64))
    s1, s2, total = np.zeros_like(a), np.zeros_like(b), 0.0
    for i, h, o in itertools.product(range(a.shape[1]), range(a.shape[0]), range(b.shape[0])):
        p = a[h, i] * b[o, h]
        total += p
        s1[h, i] += p
        s2[o, h] += p
    return total, s1, s2


def test_the_flow_and_its_gradient():
    model = _net()
    keep = [np.ones((2, 3), bool), np.ones((2, 2), bool)]
    flow, grads = synaptic_flow(model, keep, (3,))
    total, s1, s2 = _paths(model[0].weight.data, model[2].weight.data)
    assert abs(flow - total) < 1e-9 * total
    assert [g.shape for g in grads] == [(2, 3), (2, 2)]


def test_scores_are_the_flow_through_each_weight():
    model = _net(1)
    keep = [np.ones((2, 3), bool), np.ones((2, 2), bool)]
    scores = synflow_scores(model, (np.zeros((5, 3)), None), None, None, keep)
    _, s1, s2 = _paths(model[0].weight.data, model[2].weight.data)
    np.testing.assert_allclose(scores[0], s1, rtol=1e-9)
    np.testing.assert_allclose(scores[1], s2, rtol=1e-9)


def test_pruned_connections_score_zero_and_the_model_is_untouched():
    model = _net(2)
    before = [w.data.copy() for _, w, _ in model.named_masks()]
    keep = [np.array([[1, 0, 1], [1, 1, 0]], bool), np.ones((2, 2), bool)]
    scores = synflow_scores(model, (np.zeros((1, 3)), None), None, None, keep)
    assert np.all(scores[0][~keep[0]] == 0)
    w1 = model[0].weight.data * keep[0]
    _, s1, _ = _paths(w1, model[2].weight.data)
    np.testing.assert_allclose(scores[0], s1, rtol=1e-9)
    assert all(np.array_equal(b, w.data) for b, (_, w, _) in zip(before, model.named_masks()))
