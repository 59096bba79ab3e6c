"""Task 4.1: g = dL/dc (Eq. 5) against finite differences of the loss in c, s = |g|/sum|g|
(Eq. 6), and the model left as it was."""
import numpy as np

from minisnip import Tensor, functional as F, nn
from minisnip.snip import connection_sensitivity


def small_net(seed=0):
    rng = np.random.default_rng(seed)
    model = nn.Sequential(nn.Linear(4, 3, dtype=np.float64), nn.Tanh(),
                          nn.Linear(3, 2, dtype=np.float64))
    nn.init.initialize(model, "vs-h", rng=rng)
    return model, rng.standard_normal((5, 4)), rng.integers(0, 2, 5)


def loss_at(model, x, y, layer, j, value):
    c = list(model.named_masks())[layer][2]
    old = c.data[j]
    c.data[j] = value
    loss = F.cross_entropy(model(Tensor(x)), y).item()
    c.data[j] = old
    return loss


def test_g_is_the_derivative_of_the_loss_in_c():
    model, x, y = small_net()
    sens = connection_sensitivity(model, x, y)
    assert sens.names == ["0.weight", "2.weight"]
    for layer, g in enumerate(sens.g):
        for j in np.ndindex(g.shape):
            numeric = (loss_at(model, x, y, layer, j, 1 + 1e-6)
                       - loss_at(model, x, y, layer, j, 1 - 1e-6)) / 2e-6
            assert abs(numeric - g[j]) < 1e-6, f"g of layer {layer} at {j}: {g[j]} vs {numeric}"


def test_s_is_normalized_over_all_layers():
    model, x, y = small_net(1)
    sens = connection_sensitivity(model, x, y)
    total = sum(np.abs(g).sum() for g in sens.g)
    for g, s in zip(sens.g, sens.s):
        np.testing.assert_allclose(s, np.abs(g) / total)
    assert abs(sum(s.sum() for s in sens.s) - 1) < 1e-12 and len(sens.losses) == 1


def test_the_model_is_left_as_it_was():
    model, x, y = small_net(2)
    model[0].c.data[0, 0] = 0
    model.train()
    connection_sensitivity(model, x, y)
    assert model[0].c.data[0, 0] == 0 and model.training
    assert all(not c.requires_grad and c.grad is None for _, _, c in model.named_masks())
    assert all(p.grad is None and p.requires_grad for p in model.parameters())
