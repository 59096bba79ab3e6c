"""A network on its sparse kernels (``model.use_sparse_kernels``) trains exactly as the dense
``c * w`` network: forward through a chain of sparse layers, both gradients, the optimizer's
kept-only update, pruned weights and state at 0, and a mask rewritten mid-training."""
import dataclasses
import json

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from minisnip import Tensor, functional as F, masks, nn, optim
from minisnip.kernels import sparse as sparse_kernels


class Chain(nn.Module):
    """Linear layers with ReLUs between them, one nested a level deeper (recursion)."""

    def __init__(self, sizes, dtype):
        super().__init__()
        self.first = nn.Linear(sizes[0], sizes[1], dtype=dtype)
        self.rest = nn.Sequential(*[m for a, b in zip(sizes[1:], sizes[2:])
                                    for m in (nn.ReLU(), nn.Linear(a, b, dtype=dtype))])

    def forward(self, x):
        return self.rest(self.first(x))


def _twins(sizes, densities, seed, dtype=np.float64):
    nets = [Chain(sizes, dtype), Chain(sizes, dtype)]
    rng = np.random.default_rng(seed)
    for (_, w, c), density in zip(nets[0].named_masks(), densities):
        c.data[...] = rng.random(c.shape) < density
        w.data[...] = rng.standard_normal(w.shape) * c.data
    nets[1].load_state_dict(nets[0].state_dict())
    return nets


def _make_optimizer(kind, net):
    params = list(net.parameters())
    if kind == "adam":
        return optim.Adam(params, lr=1e-2, weight_decay=1e-3)
    return optim.SGD(params, lr=0.05, momentum=0.9, weight_decay=1e-3, nesterov=kind == "nesterov")


def _train(nets, opts, x, y, steps):
    for _ in range(steps):
        for net, opt in zip(nets, opts):
            loss = F.cross_entropy(net(Tensor(x)), y)
            opt.zero_grad()
            loss.backward()
            opt.step()


def _prune_again(nets, rng):
    """Prune both twins further mid-training, through masks.write: the sparse pattern and the
    optimizer's kept entries must follow."""
    for (_, _, c0), (_, _, c1) in zip(nets[0].named_masks(), nets[1].named_masks()):
        fewer = c0.data * (rng.random(c0.shape) < 0.5)
        masks.write(c0, fewer)
        masks.write(c1, fewer)


def _assert_twins(nets, opts, rtol=1e-9):
    for (name, a), (_, b) in zip(nets[0].named_parameters(), nets[1].named_parameters()):
        np.testing.assert_allclose(b.data, a.data, rtol=rtol, atol=rtol, err_msg=name)
    for net, opt in zip(nets, opts):
        for (name, w, c), i in zip(net.named_masks(), range(99)):
            assert np.all(w.data[c.data == 0] == 0), f"{name}: a pruned weight moved"
        for p, state in zip(opt.params, opt.state):
            if p.mask is not None:
                for key, value in state.items():
                    if isinstance(value, np.ndarray):
                        assert np.all(value[p.mask.data == 0] == 0), f"pruned {key} moved"


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), batch=st.integers(1, 7),
       sizes=st.lists(st.integers(1, 12), min_size=3, max_size=4),
       densities=st.lists(st.sampled_from([0.0, 0.02, 0.3, 1.0]), min_size=3, max_size=3),
       kind=st.sampled_from(["sgd", "nesterov", "adam"]))
def test_sparse_network_trains_as_the_dense_one(seed, batch, sizes, densities, kind):
    nets = _twins(sizes, densities, seed)
    chosen = nets[1].use_sparse_kernels(True)
    assert list(chosen) == ["first", "rest.1"] + (["rest.3"] if len(sizes) == 4 else [])
    assert all(chosen.values())
    opts = [_make_optimizer(kind, net) for net in nets]
    rng = np.random.default_rng(seed + 1)
    x, y = rng.standard_normal((batch, sizes[0])), rng.integers(0, sizes[-1], batch)
    _train(nets, opts, x, y, 3)
    _assert_twins(nets, opts)
    _prune_again(nets, rng)
    _train(nets, opts, x, y, 3)
    _assert_twins(nets, opts)


class ConvChain(nn.Module):
    """Two convolutions with a ReLU between them, then a Linear layer: LeNet-5's shape."""

    def __init__(self, channels, kernel, stride, padding, size, classes, dtype):
        super().__init__()
        self.conv1 = nn.Conv2d(channels[0], channels[1], kernel, stride, padding, dtype=dtype)
        self.conv2 = nn.Conv2d(channels[1], channels[2], kernel, 1, padding, dtype=dtype)
        out = (size + 2 * padding - kernel) // stride + 1
        out = out + 2 * padding - kernel + 1
        self.fc = nn.Linear(channels[2] * out * out, classes, dtype=dtype)

    def forward(self, x):
        return self.fc(self.conv2(self.conv1(x).relu()).flatten(1))


def _conv_twins(shape, densities, seed, dtype=np.float64):
    nets = [ConvChain(*shape, dtype=dtype), ConvChain(*shape, dtype=dtype)]
    rng = np.random.default_rng(seed)
    for (_, w, c), density in zip(nets[0].named_masks(), densities):
        c.data[...] = rng.random(c.shape) < density
        w.data[...] = rng.standard_normal(w.shape) * c.data / np.sqrt(c.data[0].size)
    nets[1].load_state_dict(nets[0].state_dict())
    return nets


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10_000), batch=st.integers(1, 4),
       channels=st.lists(st.integers(1, 4), min_size=3, max_size=3),
       kernel=st.integers(1, 3), stride=st.integers(1, 2), padding=st.integers(0, 1),
       densities=st.lists(st.sampled_from([0.0, 0.05, 0.3, 1.0]), min_size=3, max_size=3),
       kind=st.sampled_from(["sgd", "nesterov", "adam"]), tiles=st.booleans())
def test_sparse_convolutions_train_as_the_dense_ones(seed, batch, channels, kernel, stride,
                                                    padding, densities, kind, tiles):
    from minisnip.ops import conv as conv_op
    nets = _conv_twins((channels, kernel, stride, padding, 7, 3), densities, seed)
    chosen = nets[1].use_sparse_kernels(True)
    assert chosen == dict.fromkeys(["conv1", "conv2", "fc"], True)
    opts = [_make_optimizer(kind, net) for net in nets]
    rng = np.random.default_rng(seed + 1)
    x, y = rng.standard_normal((batch, channels[0], 7, 7)), rng.integers(0, 3, batch)
    before, kernel, calls = conv_op.COLS_BUDGET_BYTES, sparse_kernels.sparse_conv2d_forward, []
    sparse_kernels.sparse_conv2d_forward = lambda *a: calls.append(a[0].shape) or kernel(*a)
    if tiles:  # one image per tile: the backward recomputes each tile's columns
        conv_op.COLS_BUDGET_BYTES = 1
    try:
        _train(nets, opts, x, y, 3)
        assert len(calls) == 3 * 2 * (batch if tiles else 1)  # the sparse twin ran sparse
        _assert_twins(nets, opts)
        _prune_again(nets, rng)
        _train(nets, opts, x, y, 3)
        _assert_twins(nets, opts)
    finally:
        conv_op.COLS_BUDGET_BYTES = before
        sparse_kernels.sparse_conv2d_forward = kernel


def test_a_float32_lenet5_batch_agrees_on_sparse_convolutions_in_tiles(monkeypatch):
    from minisnip.models import build_model
    from minisnip.nn import init
    from minisnip.ops import conv as conv_op
    monkeypatch.setattr(conv_op, "COLS_BUDGET_BYTES", 2 ** 18)  # conv1 8, conv2 2 images a tile
    calls = []
    kernel = sparse_kernels.sparse_conv2d_forward
    monkeypatch.setattr(sparse_kernels, "sparse_conv2d_forward",
                        lambda *a: calls.append(a[0].shape) or kernel(*a))
    nets = [build_model("lenet5"), build_model("lenet5")]
    init.initialize(nets[0], "vs-x", rng=np.random.default_rng(0))
    rng = np.random.default_rng(1)
    for (_, w, c), density in zip(nets[0].named_masks(), [0.65, 0.07, 0.003, 0.2]):
        masks.write(c, rng.random(c.shape) < density)
        w.data *= c.data
    nets[1].load_state_dict(nets[0].state_dict())
    chosen = nets[1].use_sparse_kernels("auto")
    assert chosen == {"conv1": False, "conv2": True, "fc3": True, "fc4": True}
    opts = [_make_optimizer("sgd", net) for net in nets]
    x, y = rng.random((32, 1, 28, 28)).astype(np.float32), rng.integers(0, 10, 32)
    _train(nets, opts, x, y, 4)
    assert calls == [(2, 20, 12, 12)] * 16 * 4  # conv2 only, in 16 tiles, every step
    _assert_twins(nets, opts, rtol=2e-5)


def test_a_sparse_convolution_takes_no_image_and_mixed_dtypes_as_the_dense_one():
    rng = np.random.default_rng(0)
    mask = rng.random((4, 3, 3, 3)) < 0.3
    pattern = sparse_kernels.pattern_from_mask(mask)
    for x_dtype, w_dtype in ((np.float32, np.float64), (np.float64, np.float32),
                             (np.float32, np.float32)):
        for n in (0, 2):
            x = rng.standard_normal((n, 3, 6, 6)).astype(x_dtype)
            w = (rng.standard_normal(mask.shape) * mask).astype(w_dtype)
            results = []
            for sparse in (False, True):
                xt, wt = Tensor(x, requires_grad=True), Tensor(w, requires_grad=True)
                y = (F.sparse_conv2d(xt, wt, None, pattern, stride=2, padding=1) if sparse
                     else F.conv2d(xt, wt * Tensor(mask.astype(w_dtype)), None, stride=2,
                                   padding=1))
                y.sum().backward()
                results.append((y.data, xt.grad, wt.grad))
            for got, want in zip(results[1], results[0]):
                assert got.dtype == want.dtype and got.shape == want.shape
                np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
    layer = nn.Conv2d(3, 4, 3)
    masks.apply(layer, [mask])
    layer.use_sparse_kernel()
    assert layer(Tensor(np.zeros((0, 3, 6, 6), np.float32))).shape == (0, 4, 4, 4)


@pytest.mark.parametrize("x_dtype,w_dtype,b_dtype", [
    (np.float32, np.float64, np.float32), (np.float64, np.float32, np.float32),
    (np.float32, np.float32, np.float64), (np.float64, np.float64, np.float64)])
@pytest.mark.parametrize("order", ["C", "F"])
def test_sparse_linear_gives_the_dtypes_of_the_dense_one(x_dtype, w_dtype, b_dtype, order):
    rng = np.random.default_rng(0)
    mask = rng.random((4, 5)) < 0.5
    x0 = np.asarray(rng.standard_normal((3, 5)), order=order).astype(x_dtype, order="K")
    w0 = (rng.standard_normal((4, 5)) * mask).astype(w_dtype)
    results = []
    for sparse in (False, True):
        x, w = Tensor(x0.copy(order="K"), requires_grad=True), Tensor(w0, requires_grad=True)
        b = Tensor(np.ones(4, b_dtype), requires_grad=True)
        y = (F.sparse_linear(x, w, b, sparse_kernels.pattern_from_mask(mask)) if sparse
             else F.linear(x, w * Tensor(mask.astype(w_dtype)), b))
        y.sum().backward()
        results.append((y.data, x.grad, w.grad, b.grad))
    for got, want in zip(results[1], results[0]):
        assert got.dtype == want.dtype
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)


def test_sparse_ops_refuse_a_pattern_of_another_weight():
    rng = np.random.default_rng(0)
    x, w = Tensor(rng.standard_normal((2, 3, 6, 6))), Tensor(rng.standard_normal((4, 3, 3, 3)))
    truncated = list(sparse_kernels.pattern_from_mask(np.ones((4, 3, 3, 3), bool)))
    truncated[1] = truncated[1][:-1]
    for pattern in (sparse_kernels.pattern_from_mask(np.ones((4, 3 * 3 * 2), bool)),
                    sparse_kernels.pattern_from_mask(np.ones((5, 27), bool)), truncated):
        with pytest.raises(ValueError, match=r"sparse_conv2d: the pattern does not describe a "
                                             r"\(4, 3, 3, 3\) weight"):
            F.sparse_conv2d(x, w, None, pattern)
    with pytest.raises(ValueError, match=r"sparse_conv2d: input \(2, 3, 6, 6\) has 3 channels"):
        F.sparse_conv2d(x, Tensor(np.ones((4, 2, 3, 3))), None,
                        sparse_kernels.pattern_from_mask(np.ones((4, 18), bool)))
    with pytest.raises(ValueError, match=r"sparse_linear: the pattern does not describe a "
                                         r"\(4, 5\) weight"):
        F.sparse_linear(Tensor(np.ones((2, 5))), Tensor(np.ones((4, 5))), None,
                        sparse_kernels.pattern_from_mask(np.ones((4, 6), bool)))


def test_a_float32_lenet_batch_agrees_after_several_steps():
    nets = _twins([784, 300, 100, 10], [0.01, 0.05, 0.6], seed=3, dtype=np.float32)
    nets[1].use_sparse_kernels("auto")
    opts = [_make_optimizer("sgd", net) for net in nets]
    rng = np.random.default_rng(0)
    x, y = rng.random((100, 784)).astype(np.float32), rng.integers(0, 10, 100)
    _train(nets, opts, x, y, 5)
    _assert_twins(nets, opts, rtol=2e-5)


def test_the_optimizer_zeroes_what_a_rewritten_mask_prunes():
    """The kept-only update must not keep using the indices of the mask before the rewrite:
    the weights a rewrite prunes are zeroed by the next step (with their momentum)."""
    layer = nn.Linear(6, 4, dtype=np.float64)
    layer.weight.data[...] = 1.0
    layer.use_sparse_kernels(True)
    opt = optim.SGD([layer.weight], lr=0.1, momentum=0.9)
    x = Tensor(np.ones((2, 6)))
    for _ in range(2):
        opt.zero_grad()
        layer(x).sum().backward()
        opt.step()
    masks.write(layer.c, np.arange(24).reshape(4, 6) % 2)
    layer.weight.data[layer.c.data == 0] = 5.0  # what the c * w path never reads
    for _ in range(2):
        opt.zero_grad()
        layer(x).sum().backward()
        opt.step()
    assert np.all(layer.weight.data[layer.c.data == 0] == 0)
    assert np.all(opt.state[0]["momentum_buffer"][layer.c.data == 0] == 0)


def test_auto_chooses_by_the_break_even_density(monkeypatch):
    monkeypatch.setattr(nn.Linear, "BREAK_EVEN_DENSITY", 0.25)
    net = _twins([10, 10, 10, 10], [0.2, 0.25, 0.3], seed=0)[0]
    densities = [c.data.mean() for _, _, c in net.named_masks()]
    chosen = net.use_sparse_kernels("auto")
    assert list(chosen.values()) == [d <= 0.25 for d in densities]
    assert net.use_sparse_kernels(False) == dict.fromkeys(chosen, False)
    assert all(c.data.flags.writeable for _, _, c in net.named_masks())


@pytest.mark.parametrize("mode", ["on", "off", 1, 0, None, "Auto", np.bool_(True)])
def test_a_mode_that_is_not_auto_true_or_false_is_refused(mode):
    with pytest.raises(ValueError, match="'auto', True or False"):
        nn.Linear(3, 2).use_sparse_kernels(mode)


def test_train_records_the_layers_that_ran_sparse_and_refuses_a_bad_mode(tmp_path):
    from minisnip import train
    config = train.RunConfig(dataset="fashion-mini", sparsity=0.98, epochs=1, max_train=300,
                             quiet=True)
    records = {mode: train.run(dataclasses.replace(config, sparse_kernels=mode))
               for mode in ("auto", "on", "off")}
    assert records["on"]["sparse_kernels"] == dict(mode="on", layers=dict.fromkeys(
        ["fc1", "fc2", "fc3"], True))
    assert records["off"]["sparse_kernels"]["layers"] == dict.fromkeys(["fc1", "fc2", "fc3"],
                                                                      False)
    assert records["auto"]["sparse_kernels"]["layers"]["fc1"] is True  # far below 0.2 at 98%
    for mode in ("on", "off"):
        assert records[mode]["test_error"] == pytest.approx(records["auto"]["test_error"],
                                                            abs=0.2)
    assert "sparse_kernels" not in train.run(dataclasses.replace(config, sparsity=None))
    with pytest.raises(ValueError, match="sparse kernels must be one of auto, on, off"):
        train.run(dataclasses.replace(config, sparse_kernels="yes"))
    json.dumps(records["auto"])


def test_the_cli_flag_reaches_the_record(tmp_path, capsys):
    from minisnip.cli import main
    out = tmp_path / "r.json"
    assert main(["train", "--dataset", "fashion-mini", "--sparsity", "0.98", "--epochs", "1",
                 "--max-train", "200", "--quiet", "--sparse-kernels", "off",
                 "--json", str(out)]) == 0
    assert json.loads(out.read_text())["sparse_kernels"]["mode"] == "off"
    assert main(["train", "--dataset", "fashion-mini", "--sparse-kernels", "maybe"]) == 2
    assert "invalid choice: 'maybe'" in capsys.readouterr().err


def test_the_kernels_are_not_in_a_records_key_and_an_old_record_ran_dense():
    from minisnip.experiments import records
    from minisnip.train import RunConfig
    keys = {records.config_key(RunConfig(sparsity=0.9, sparse_kernels=m))
            for m in ("auto", "on", "off")}
    assert len(keys) == 1
    old = dataclasses.asdict(RunConfig(sparsity=0.9))
    del old["sparse_kernels"]
    assert records.config_from_dict(old).sparse_kernels == "off"


@pytest.mark.parametrize("layout", ["C", "F"])
def test_a_layer_reading_few_inputs_transposes_only_those(layout, monkeypatch):
    """Compact columns (kernels.sparse.compact_columns): x^T holds only the columns some
    connection reads; the result and all three gradients equal the dense path's."""
    rng = np.random.default_rng(5)
    dense, sparse = nn.Linear(40, 6, dtype=np.float64), nn.Linear(40, 6, dtype=np.float64)
    keep = np.zeros((6, 40), bool)
    keep[[0, 0, 3, 5], [7, 31, 7, 12]] = True
    for layer in (dense, sparse):
        layer.weight.data[...] = rng.standard_normal((6, 40)) if layer is dense else \
            dense.weight.data
        layer.bias.data[...] = 0.5
        masks.apply(layer, [keep])
    sparse.use_sparse_kernels(True)
    columns = sparse._sparse[0][1]
    assert columns is not None and list(columns[0]) == [7, 12, 31]
    seen = []
    monkeypatch.setattr(sparse_kernels, "forward_t", lambda x_t, *a, f=sparse_kernels.forward_t:
                        seen.append(x_t.shape) or f(x_t, *a))
    x = np.asfortranarray(rng.standard_normal((9, 40))) if layout == "F" else \
        rng.standard_normal((9, 40))
    results = []
    for layer in (dense, sparse):
        xt = Tensor(x.copy(order="K"), requires_grad=True)
        y = layer(xt)
        (y * Tensor(np.arange(54.0).reshape(9, 6))).sum().backward()
        results.append((y.data, xt.grad, layer.weight.grad, layer.bias.grad))
    assert seen == [(3, 9) if layout == "C" else (40, 9)]  # a column-major x is free as it is
    for got, want in zip(results[1], results[0]):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_a_mask_edited_while_dense_is_seen_by_the_optimizer_when_sparse_again():
    """use_sparse_kernels(False), an in-place edit of c, use_sparse_kernels(True), with no
    step between: the optimizer must not keep the kept entries of the old mask."""
    layer = nn.Linear(4, 3, dtype=np.float64)
    layer.weight.data[...] = 1.0
    masks.write(layer.c, np.eye(3, 4))
    layer.use_sparse_kernels(True)
    opt = optim.SGD([layer.weight], lr=0.1, momentum=0.9, weight_decay=0.1)
    x = Tensor(np.ones((2, 4)))
    opt.zero_grad()
    layer(x).sum().backward()
    opt.step()
    layer.use_sparse_kernels(False)
    new = np.fliplr(np.eye(3, 4))
    layer.c.data[...] = new
    layer.weight.data[...] = layer.weight.data * new + new   # kept entries at 1, pruned at 0
    layer.use_sparse_kernels(True)
    opt.zero_grad()
    layer(x).sum().backward()
    opt.step()
    assert np.all(layer.weight.data[new == 1] != 1.0)          # the newly kept entries moved
    assert np.all(layer.weight.data[new == 0] == 0)
    assert np.all(opt.state[0]["momentum_buffer"][new == 0] == 0)


def test_a_sparse_layers_weight_gradient_is_the_kernels_array_not_a_copy(monkeypatch):
    returned = []
    kernel = sparse_kernels.weight_grad
    monkeypatch.setattr(sparse_kernels, "weight_grad",
                        lambda *a: returned.append(kernel(*a)) or returned[-1])
    layer = nn.Linear(5, 4)
    masks.apply(layer, [np.eye(4, 5, dtype=bool)])
    layer.use_sparse_kernels(True)
    layer(Tensor(np.ones((3, 5), np.float32))).sum().backward()
    assert layer.weight.grad is returned[0]


def test_columns_of_another_pattern_are_refused_and_a_bias_dtype_as_the_dense_path():
    rng = np.random.default_rng(0)
    mask_a = np.zeros((3, 8), bool)
    mask_a[[0, 1, 2], [1, 4, 6]] = True
    mask_b = np.zeros((3, 8), bool)
    mask_b[[0, 1, 2], [2, 3, 7]] = True
    pattern_a = sparse_kernels.pattern_from_mask(mask_a)
    columns_b = sparse_kernels.compact_columns(sparse_kernels.pattern_from_mask(mask_b)[1], 8)
    x, w = Tensor(rng.standard_normal((2, 8))), Tensor(rng.standard_normal((3, 8)))
    with pytest.raises(ValueError, match="columns do not belong to the pattern"):
        F.sparse_linear(x, w, None, pattern_a, columns_b)
    x32, w32 = Tensor(x.data.astype(np.float32)), Tensor(w.data.astype(np.float32))
    bias64 = Tensor(np.full(3, 1e-9))
    y = F.sparse_linear(x32, w32, bias64, pattern_a)
    assert y.dtype == F.linear(x32, w32 * Tensor(mask_a.astype(np.float32)), bias64).dtype
