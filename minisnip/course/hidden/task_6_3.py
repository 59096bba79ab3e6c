"""Task 6.3, instructor's tests: every position equally likely; the rng's order; gates."""
import numpy as np

from minisnip import nn
from minisnip.pruners import reinitialize_kept, shuffle_within_layers


def test_every_position_is_equally_likely():
    counts = np.zeros(6)
    rng = np.random.default_rng(0)
    keep = [np.array([True, False, False, False, False, False])]
    for _ in range(3000):
        counts += shuffle_within_layers(keep, rng)[0]
    assert counts.min() > 400 and counts.max() < 600


def test_the_same_rng_gives_the_same_weights_as_the_library_order():
    from minisnip.nn.init import sample
    model = nn.Sequential(nn.Linear(5, 4), nn.ReLU(), nn.Linear(4, 3))
    reinitialize_kept(model, "vs-h", np.random.default_rng(9))
    rng = np.random.default_rng(9)
    np.testing.assert_allclose(model[0].weight.data, sample("vs-h", (4, 5), rng), rtol=1e-6)
    np.testing.assert_allclose(model[2].weight.data, sample("vs-h", (3, 4), rng), rtol=1e-6)


def test_recurrent_weights_use_their_gate_blocks():
    model = nn.Sequential(nn.LSTM(8, 64))
    reinitialize_kept(model, "vs-x", np.random.default_rng(4))
    w = model[0].weight_hh_l0.data
    assert abs(w.std() - np.sqrt(2 / (64 + 64))) < 0.01   # per gate: fan_in = fan_out = 64
