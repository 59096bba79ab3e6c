"""Task 4.4, instructor's tests: kappa given directly, biases, the report."""
import numpy as np

from minisnip import nn
from minisnip.snip import prune


def _net(seed):
    rng = np.random.default_rng(seed)
    model = nn.Sequential(nn.Linear(4, 4, dtype=np.float64), nn.Tanh(),
                          nn.Linear(4, 2, dtype=np.float64))
    nn.init.initialize(model, "vs-x", rng=rng)
    return model, rng.standard_normal((6, 4)), rng.integers(0, 2, 6)


def test_kappa_directly_and_the_report():
    model, x, y = _net(1)
    report = prune(model, x, y, kappa=7)
    assert report.kept == 7 and report.prunable == 24 and report.method == "snip"


def test_include_bias_removes_the_zero_biases():
    model, x, y = _net(2)
    report = prune(model, x, y, sparsity=0.5, include_bias=True)
    assert any(layer.name.endswith("bias") for layer in report.layers)
    assert all(layer.kept == 0 for layer in report.layers if layer.name.endswith("bias"))
