"""Task 4.4: Algorithm 1 keeps exactly kappa, the most sensitive, and zeroes the rest."""
import numpy as np

from minisnip import nn
from minisnip.snip import connection_sensitivity, prune


def test_algorithm_1():
    rng = np.random.default_rng(0)
    model = nn.Sequential(nn.Linear(6, 5, dtype=np.float64), nn.Tanh(),
                          nn.Linear(5, 3, dtype=np.float64))
    nn.init.initialize(model, "vs-x", rng=rng)
    x, y = rng.standard_normal((8, 6)), rng.integers(0, 3, 8)
    s = connection_sensitivity(model, x, y).flat()
    report = prune(model, x, y, sparsity=0.6)
    keep = np.concatenate([c.data.ravel() for _, _, c in model.named_masks()]).astype(bool)
    assert keep.sum() == round(0.4 * 45) == report.kept
    assert s[keep].min() >= s[~keep].max()
    for _, w, c in model.named_masks():
        assert np.all(w.data[c.data == 0] == 0)
