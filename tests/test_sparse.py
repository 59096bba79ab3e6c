"""The sparse Linear path computes exactly what the dense c * w path computes."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

from minisnip import Tensor, functional as F, masks, nn, optim


@given(seed=st.integers(0, 10_000), density=st.floats(0.0, 1.0), batch=st.integers(1, 6),
       sizes=st.tuples(st.integers(1, 9), st.integers(1, 9)))
def test_sparse_path_equals_dense_path(seed, density, batch, sizes):
    rng = np.random.default_rng(seed)
    n_in, n_out = sizes
    dense, sparse = nn.Linear(n_in, n_out, dtype=np.float64), nn.Linear(n_in, n_out, dtype=np.float64)
    for layer in (dense, sparse):
        layer.weight.data[...] = np.random.default_rng(seed).standard_normal((n_out, n_in))
        layer.bias.data[...] = np.random.default_rng(seed + 1).standard_normal(n_out)
        layer.c.data[...] = np.random.default_rng(seed + 2).random((n_out, n_in)) < density
    sparse.use_sparse_kernel()
    x = rng.standard_normal((batch, n_in))
    outs = []
    for layer in (dense, sparse):
        xt = Tensor(x, requires_grad=True)
        y = layer(xt)
        (y * Tensor(np.arange(y.size).reshape(y.shape))).sum().backward()
        outs.append((y.data, xt.grad, layer.weight.grad, layer.bias.grad))
    np.testing.assert_allclose(outs[1][0], x @ (dense.c.data * dense.weight.data).T
                               + dense.bias.data, rtol=1e-12, atol=1e-12)
    for a, b in zip(*outs):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_sparse_layer_trains_like_the_dense_one_and_follows_mask_changes(rng):
    layers = [nn.Linear(20, 6), nn.Linear(20, 6)]
    for layer in layers:
        layer.weight.data[...] = np.random.default_rng(0).standard_normal((6, 20))
        layer.c.data[...] = np.random.default_rng(1).random((6, 20)) < 0.2
        layer.weight.data *= layer.c.data
    layers[1].use_sparse_kernel()
    opts = [optim.SGD(list(l.parameters()), lr=0.1, momentum=0.9) for l in layers]
    x, y = rng.standard_normal((8, 20)).astype(np.float32), rng.integers(0, 6, 8)
    for _ in range(5):
        for layer, opt in zip(layers, opts):
            loss = F.cross_entropy(layer(Tensor(x)), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
    np.testing.assert_allclose(layers[0].weight.data, layers[1].weight.data, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="read-only"):
        layers[1].c.data[...] = 0   # the pattern is built from the mask: no silent change
    masks.write(layers[1].c, 0)      # pruned again, the sanctioned way: the pattern follows
    assert np.all(layers[1](Tensor(x)).data == layers[1].bias.data)
    layers[1].use_sparse_kernel(False)
    layers[1].c.data[...] = 1        # dense again: the mask is an ordinary array
