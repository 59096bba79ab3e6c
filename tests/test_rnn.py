"""LSTM/GRU kernels against their oracles; layers, models, initialization; SNIP on RNNs."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

from minisnip import Tensor, functional as F, nn, optim
from minisnip.kernels import recurrent, reference
from minisnip.models import build_model, model_info
from minisnip.nn import init
from minisnip.snip import connection_sensitivity, prune
from minisnip.report import gate_densities

from .autodiff_oracles import recurrent_backward_by_autodiff


@st.composite
def problem(draw, gates):
    t, b, d, h = (draw(st.integers(1, 5)) for _ in range(4))
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1)))
    arrays = [rng.standard_normal((t, b, d)), rng.standard_normal((b, h))]
    if gates == 4:
        arrays.append(rng.standard_normal((b, h)))
    arrays += [rng.standard_normal((gates * h, d)) * 0.5, rng.standard_normal((gates * h, h)) * 0.5,
               rng.standard_normal(gates * h) * 0.5, rng.standard_normal(gates * h) * 0.5]
    dc_last = rng.standard_normal((b, h)).astype(dtype) if gates == 4 else None
    return [a.astype(dtype) for a in arrays], rng.standard_normal((t, b, h)).astype(dtype), dc_last


def _tol(dtype):
    return dict(rtol=1e-4, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("kind,gates", [("lstm", 4), ("gru", 3)])
@given(data=st.data())
def test_kernels_match_oracles(kind, gates, data):
    """Forward against the step-by-step NumPy equations; backward through time against the
    same equations differentiated by the (gradient-checked) engine."""
    inputs, dhs, dc_last = data.draw(problem(gates))
    _assert_kernels_match_oracles(kind, inputs, dhs, dc_last)


def _assert_kernels_match_oracles(kind, inputs, dhs, dc_last=None):
    """Forward (hs and everything saved for the backward) against the NumPy oracle; backward
    (from dL/dhs, and for the LSTM dL/dc_T) against the NumPy oracle and against the engine's
    autodiff of the same equations."""
    forward, backward = getattr(recurrent, f"{kind}_forward"), getattr(recurrent, f"{kind}_backward")
    hs, saved = forward(*inputs)
    want_hs, want_saved = getattr(reference, f"{kind}_forward")(*inputs)
    np.testing.assert_allclose(hs, want_hs, **_tol(hs.dtype))
    for got, want in zip(saved, want_saved):
        np.testing.assert_allclose(got, want, **_tol(hs.dtype))
    gradients = (dhs, dc_last) if kind == "lstm" else (dhs,)
    got = backward(*gradients, saved)
    by_oracle = getattr(reference, f"{kind}_backward")(*gradients, saved)
    by_autodiff = recurrent_backward_by_autodiff(kind, dhs, *inputs, dc_last=dc_last)
    for g, o, a in zip(got, by_oracle, by_autodiff):
        np.testing.assert_allclose(g, o, **_tol(hs.dtype))
        np.testing.assert_allclose(g, a, **_tol(hs.dtype))


@pytest.mark.parametrize("kind,gates", [("lstm", 4), ("gru", 3)])
@pytest.mark.parametrize("hid", [40, 130])
def test_kernels_match_oracles_at_sizes_that_use_the_dot_tiles(kind, gates, hid, rng):
    """With G*H >= 128 the backward's per-step product runs on matmul.dot_tiles, with H >= 128
    the forward's too (the hypothesis test above draws H <= 5: the packed-strip path)."""
    t, b, d = 3, 5, 6
    inputs = [rng.standard_normal((t, b, d)), rng.standard_normal((b, hid))]
    if gates == 4:
        inputs.append(rng.standard_normal((b, hid)))
    inputs += [rng.standard_normal((gates * hid, d)) * 0.3,
               rng.standard_normal((gates * hid, hid)) * 0.1,
               rng.standard_normal(gates * hid) * 0.3, rng.standard_normal(gates * hid) * 0.3]
    _assert_kernels_match_oracles(kind, inputs, rng.standard_normal((t, b, hid)),
                                  rng.standard_normal((b, hid)) if kind == "lstm" else None)


def test_blas_backend_gives_the_same_sequence(rng):
    import minisnip
    inputs = [rng.standard_normal(s) for s in [(3, 2, 4), (2, 5), (2, 5), (20, 4), (20, 5), (20,), (20,)]]
    a, _ = recurrent.lstm_forward(*inputs)
    minisnip.config.set_matmul_backend("blas")
    try:
        b, _ = recurrent.lstm_forward(*inputs)
    finally:
        minisnip.config.set_matmul_backend("numba")
    np.testing.assert_allclose(a, b, rtol=1e-12)


def test_layer_names_shapes_and_errors():
    """PyTorch's defaults: (T, B, D) unless batch_first; (output, (h_n, c_n)) for the LSTM,
    (output, h_n) for the GRU, states (1, B, H)."""
    lstm = nn.LSTM(28, 16)
    assert [n for n, _ in lstm.named_parameters()] == ["weight_ih_l0", "weight_hh_l0",
                                                        "bias_ih_l0", "bias_hh_l0"]
    assert lstm.weight_ih_l0.shape == (64, 28) and lstm.c_hh.shape == (64, 16)
    assert "weight_hh_l0_mask" in lstm.state_dict() and not lstm.batch_first
    out, (h_n, c_n) = lstm(Tensor(np.ones((3, 5, 28))))
    assert out.shape == (3, 5, 16) and h_n.shape == (1, 5, 16) == c_n.shape
    with pytest.raises(ValueError, match=r"expected input \(T, B, D\) with D = 28"):
        lstm(Tensor(np.ones((3, 5, 27))))
    out, (h_n, c_n) = nn.LSTM(28, 16, batch_first=True)(Tensor(np.ones((3, 5, 28))))
    assert out.shape == (3, 5, 16) and h_n.shape == (1, 3, 16) == c_n.shape
    with pytest.raises(ValueError, match=r"expected input \(B, T, D\) with D = 28"):
        nn.LSTM(28, 16, batch_first=True)(Tensor(np.ones((3, 5, 27))))
    gru = nn.GRU(4, 6)
    out, h_n = gru(Tensor(np.ones((5, 2, 4))))
    assert out.shape == (5, 2, 6) and h_n.shape == (1, 2, 6)
    assert repr(nn.GRU(4, 6, batch_first=True)) == "GRU(4, 6, batch_first=True)"


@pytest.mark.parametrize("call,error,match", [
    (lambda: nn.LSTM(3, 4)(np.ones((5, 2, 3)), (np.zeros((2, 4)), np.zeros((1, 2, 4)))),
     ValueError, r"LSTM: h_0 has shape \(2, 4\), expected \(num_layers, B, H\) = \(1, 2, 4\) "
                 r"as in PyTorch \(add the layer axis: h_0.reshape\(1, 2, 4\)\)"),
    (lambda: nn.LSTM(3, 4)(np.ones((5, 2, 3)), (np.zeros((1, 2, 4)), np.zeros((1, 3, 4)))),
     ValueError, r"LSTM: c_0 has shape \(1, 3, 4\), expected \(num_layers, B, H\) = \(1, 2, 4\)"),
    (lambda: nn.LSTM(3, 4)(np.ones((5, 2, 3)), np.zeros((1, 2, 4))),
     TypeError, r"LSTM: hx must be a pair \(h_0, c_0\)"),
    (lambda: nn.GRU(3, 4)(np.ones((5, 2, 3)), np.zeros((2, 4))),
     ValueError, r"GRU: hx has shape \(2, 4\), expected \(num_layers, B, H\) = \(1, 2, 4\)"),
    (lambda: nn.GRU(3, 4)(np.ones((5, 3))), ValueError, r"unbatched \(T, D\) input is not"),
    (lambda: nn.LSTM(3, 4, 2), ValueError, r"LSTM: num_layers=2 is not implemented"),
    (lambda: nn.GRU(3, 4, bidirectional=True), ValueError, r"GRU: bidirectional=True is not"),
    (lambda: nn.LSTM(3, 4, dropout=0.5), ValueError, r"LSTM: dropout=0.5 is not implemented"),
    (lambda: nn.LSTM(3, 4, proj_size=2), ValueError, r"LSTM: proj_size=2 is not implemented"),
    (lambda: nn.GRU(3, 4, bias=False), ValueError, r"GRU: bias=False is not implemented"),
    (lambda: nn.GRU(3, 0), ValueError, r"GRU: hidden_size must be >= 1, got 0"),
    (lambda: nn.LSTM(3.0, 4), TypeError, r"LSTM: input_size must be an int, got float 3.0"),
], ids=range(12))
def test_layers_refuse_what_pytorch_would_read_otherwise(call, error, match):
    with pytest.raises(error, match=match):
        call()


def _torch_twin(torch, ours, cls):
    """A torch.nn.LSTM/GRU holding our layer's weights (float64)."""
    twin = getattr(torch.nn, cls)(ours.input_size, ours.hidden_size,
                                  batch_first=ours.batch_first).double()
    with torch.no_grad():
        for name, p in twin.named_parameters():
            p.copy_(torch.from_numpy(getattr(ours, name).data))
    return twin


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("cls", ["LSTM", "GRU"])
def test_layers_agree_with_pytorch_outputs_states_and_every_gradient(cls, batch_first):
    """Weights copied into torch.nn.LSTM/GRU: output, h_n (and c_n), and the gradients of a
    loss on all of them (c_n included) for the input, the initial state and every parameter;
    then (h_n, c_n) fed back as the next call's hx, as PyTorch code does."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    ours = getattr(nn, cls)(3, 5, batch_first=batch_first, dtype=np.float64)
    init.initialize(ours, "vs-x", rng=rng)
    for p in (ours.bias_ih_l0, ours.bias_hh_l0):
        p.data[:] = rng.standard_normal(p.shape) * 0.3
    twin = _torch_twin(torch, ours, cls)
    t, b = 4, 2
    x = rng.standard_normal((b, t, 3) if batch_first else (t, b, 3))
    states = [rng.standard_normal((1, b, 5)) for _ in range(2 if cls == "LSTM" else 1)]
    weights = [rng.standard_normal(s) for s in ((b, t, 5) if batch_first else (t, b, 5),
                                                 (1, b, 5), (1, b, 5))]

    def run(layer, wrap, x, states):
        xs = wrap(x)
        hx = [wrap(s) for s in states]
        output, state = layer(xs, tuple(hx) if cls == "LSTM" else hx[0])
        # a second call fed with the returned state: gradients flow through it
        output2, state2 = layer(xs, state)
        finals = list(state2) if cls == "LSTM" else [state2]
        loss = (output * wrap(weights[0])).sum() + (output2 * wrap(weights[0])).sum()
        for final, w in zip(finals, weights[1:]):
            loss = loss + (final * wrap(w)).sum()
        loss.backward()
        return [output, output2] + finals, [xs] + hx

    ours_out, ours_leaves = run(ours, lambda a: Tensor(a, requires_grad=True), x, states)
    theirs_out, theirs_leaves = run(twin, lambda a: torch.tensor(a, requires_grad=True), x, states)
    for a, b_ in zip(ours_out, theirs_out):
        assert a.shape == tuple(b_.shape)
        np.testing.assert_allclose(a.data, b_.detach().numpy(), rtol=1e-10, atol=1e-12)
    for a, b_ in zip(ours_leaves, theirs_leaves):
        np.testing.assert_allclose(a.grad, b_.grad.numpy(), rtol=1e-10, atol=1e-12)
    for name, p in twin.named_parameters():
        np.testing.assert_allclose(getattr(ours, name).grad, p.grad.numpy(), rtol=1e-10,
                                   atol=1e-12, err_msg=name)


def test_a_loss_on_the_last_cell_state_alone_reaches_every_input():
    """c_n is an output with a gradient of its own (it was not returned at all)."""
    rng = np.random.default_rng(1)
    lstm = nn.LSTM(2, 3, dtype=np.float64)
    init.initialize(lstm, "vs-x", rng=rng)
    x = Tensor(rng.standard_normal((4, 2, 2)), requires_grad=True)
    _, (_, c_n) = lstm(x)
    c_n.sum().backward()
    assert np.abs(x.grad).min() > 0 and np.abs(lstm.weight_hh_l0.grad).sum() > 0


@pytest.mark.parametrize("name", ["lstm-s", "lstm-b", "gru-s", "gru-b"])
def test_parameter_counts_match_the_paper(name):
    count = build_model(name).num_parameters()
    expected = model_info(name)["paper_params"]
    assert abs(count - expected) <= 0.01 * expected


@pytest.mark.parametrize("scheme,var", [("rn", lambda fi, fo: 0.01),
                                        ("tn", lambda fi, fo: 0.01 * 0.7737),
                                        ("vs-x", lambda fi, fo: 2 / (fi + fo)),
                                        ("vs-h", lambda fi, fo: 2 / fi)])
@pytest.mark.parametrize("cell", [nn.LSTM, nn.GRU])
def test_init_variance_of_recurrent_matrices(scheme, var, cell):
    """Every Table 3 scheme applies to the recurrent matrices; fans are per gate block."""
    layer = cell(64, 256)
    init.initialize(layer, scheme, rng=0)
    for w, fan_in in ((layer.weight_ih_l0, 64), (layer.weight_hh_l0, 256)):
        v = w.data.astype(np.float64).var()
        assert abs(v / var(fan_in, 256) - 1) < 0.03, (w.shape, v)
    assert np.all(layer.bias_ih_l0.data == 0)


def _small(cell, seed):
    rng = np.random.default_rng(seed)

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = (nn.LSTM if cell == "lstm" else nn.GRU)(3, 4, batch_first=True,
                                                                dtype=np.float64)
            self.fc = nn.Linear(4, 2, dtype=np.float64)

        def forward(self, x):
            _, state = self.rnn(x)
            h_n = state[0] if cell == "lstm" else state
            return self.fc(h_n[0])

    model = Net()
    init.initialize(model, "vs-x", rng=rng)
    return model, rng.standard_normal((3, 5, 3)), rng.integers(0, 2, 3)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_snip_on_recurrent_nets(cell):
    """c.grad = w * dL/dw at c = 1, and g matches finite differences of L in c (Eq. 5); the
    masks are shared by all time steps, so g sums each connection's effect over time."""
    model, x, y = _small(cell, 0)
    sens = connection_sensitivity(model, x, y)
    F.cross_entropy(model(Tensor(x)), y).backward()
    for g, (name, w, c) in zip(sens.g, model.named_masks()):
        np.testing.assert_allclose(g, w.data * w.grad, rtol=1e-9, atol=1e-13)
        for j in list(np.ndindex(c.shape))[::7]:
            values = []
            for delta in (1e-6, -1e-6):
                c.data[j] = 1 + delta
                values.append(F.cross_entropy(model(Tensor(x)), y).item())
            c.data[j] = 1
            assert abs((values[0] - values[1]) / 2e-6 - g[j]) < 1e-7, name


@pytest.mark.parametrize("name", ["lstm-s", "gru-s"])
def test_models_prune_report_gates_and_train(name):
    rng = np.random.default_rng(0)
    model = build_model(name)
    init.initialize(model, "vs-x", rng=rng)
    x = rng.standard_normal((4, 28, 28)).astype(np.float32)
    y = np.array([0, 1, 2, 3])
    report = prune(model, x, y, sparsity=0.95)
    gates = [layer.gates for layer in report.layers if layer.name.startswith("rnn.")]
    assert len(gates) == 2 and all(g for g in gates)
    assert report.effective_sparsity is None  # not a plain chain
    opt = optim.Adam(list(model.parameters()), lr=1e-3)
    for _ in range(2):
        loss = F.cross_entropy(model(Tensor(x)), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert np.isfinite(loss.item())
    densities = gate_densities(model.rnn)
    assert set(densities) == {f"{s}.{g}" for s in ("ih", "hh") for g in model.rnn._gate_names}
    for _, w, c in model.named_masks():
        assert np.all(w.data[c.data == 0] == 0)
