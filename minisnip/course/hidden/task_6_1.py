"""Task 6.1, instructor's tests: float64 on a deep narrow net, conservation, no data needed."""
import numpy as np
import pytest

from minisnip import nn
from minisnip.pai.synflow import synflow_scores


def test_a_deep_narrow_net_whose_float32_flow_overflows():
    layers = []
    for _ in range(40):
        layers += [nn.Linear(4, 4, bias=False), nn.ReLU()]
    model = nn.Sequential(*layers[:-1])
    for _, w, _ in model.named_masks():
        w.data[...] = 20.0                    # the flow is 4 * (4 * 20)^40 * ...: > 3.4e38
    keep = [np.ones((4, 4), bool) for _ in range(40)]
    scores = synflow_scores(model, (np.zeros((1, 4)), None), None, None, keep)
    assert all(np.all(np.isfinite(s)) and s.dtype == np.float64 for s in scores)
    totals = [s.sum() for s in scores]
    np.testing.assert_allclose(totals, totals[0], rtol=1e-9)   # each layer carries all of R


def test_conservation_on_a_conv_net_with_biases():
    rng = np.random.default_rng(3)
    model = nn.Sequential(nn.Conv2d(1, 3, 3), nn.ReLU(), nn.Flatten(), nn.Linear(3 * 4 * 4, 5))
    nn.init.initialize(model, "vs-x", rng=rng)
    for layer in (model[0], model[3]):
        layer.bias.data[...] = 0.5
    keep = [np.ones(c.shape, bool) for _, _, c in model.named_masks()]
    scores = synflow_scores(model, (np.zeros((2, 1, 6, 6)), None), None, None, keep)
    assert abs(scores[0].sum() - scores[1].sum()) < 1e-9 * scores[1].sum()


def test_without_inputs_it_says_what_it_needs():
    model = nn.Sequential(nn.Linear(2, 2))
    with pytest.raises(ValueError):
        synflow_scores(model, (None, None), None, None, [np.ones((2, 2), bool)])
