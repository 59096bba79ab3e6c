"""Task 6.3: shuffling keeps each layer's count and moves the positions; re-initializing keeps
the mask and draws fresh weights from the scheme."""
import numpy as np

from minisnip import nn
from minisnip.pruners import reinitialize_kept, shuffle_within_layers


def test_shuffle_keeps_counts_and_moves_positions():
    rng = np.random.default_rng(0)
    keep = [rng.random((20, 30)) < 0.1, rng.random((10, 20)) < 0.5]
    shuffled = shuffle_within_layers(keep, np.random.default_rng(1))
    assert [s.shape for s in shuffled] == [(20, 30), (10, 20)]
    assert [int(s.sum()) for s in shuffled] == [int(k.sum()) for k in keep]
    assert not np.array_equal(shuffled[0], keep[0])


def test_reinit_keeps_the_mask_draws_from_the_scheme_and_leaves_biases():
    model = nn.Sequential(nn.Linear(200, 100), nn.ReLU(), nn.Linear(100, 10))
    nn.init.initialize(model, "vs-x", rng=0)
    mask = np.random.default_rng(2).random((100, 200)) < 0.5
    model[0].c.data[...] = mask
    model[0].weight.data *= mask
    model[0].bias.data[...] = 0.25
    before = model[0].weight.data.copy()
    reinitialize_kept(model, "rn", np.random.default_rng(3))
    w = model[0].weight.data
    assert np.all(w[~mask] == 0) and not np.any(w[mask] == before[mask])
    assert abs(w[mask].std() - 0.1) < 0.01           # RN: N(0, 0.1^2)
    assert np.all(model[0].bias.data == 0.25)
