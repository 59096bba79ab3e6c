"""Modules: Linear with its mask c, PyTorch-shaped state_dict, init schemes (Table 3)."""
import numpy as np
import pytest

import minisnip
from minisnip import Tensor, functional as F, nn
from minisnip.models import build_model, model_info


def test_linear_layout_and_forward(rng):
    layer = nn.Linear(4, 3)
    assert layer.weight.shape == (3, 4) and layer.bias.shape == (3,)
    assert layer.c is layer.weight_mask and np.all(layer.c.data == 1)
    layer.weight.data[...] = rng.standard_normal((3, 4))
    layer.bias.data[...] = rng.standard_normal(3)
    layer.c.data[...] = rng.random((3, 4)) < 0.5
    x = rng.standard_normal((5, 4)).astype(np.float32)
    want = x @ (layer.c.data * layer.weight.data).T + layer.bias.data
    np.testing.assert_allclose(layer(Tensor(x)).data, want, rtol=1e-5, atol=1e-6)


def test_linear_input_size_error():
    with pytest.raises(ValueError, match=r"Linear\(4, 3\): input has 5 features"):
        nn.Linear(4, 3)(Tensor(np.ones((2, 5))))


def test_state_dict_names_are_pytorch_s():
    model = nn.Sequential(nn.Linear(3, 2), nn.ReLU(), nn.Linear(2, 1))
    assert list(model.state_dict()) == ["0.weight", "0.bias", "0.weight_mask",
                                        "2.weight", "2.bias", "2.weight_mask"]
    assert [n for n, _ in model.named_parameters()] == ["0.weight", "0.bias", "2.weight", "2.bias"]


def test_load_state_dict_checks_everything_before_changing_anything(rng):
    model = build_model("lenet300")
    before = model.state_dict()
    bad = {k: v.copy() for k, v in before.items()}
    bad["fc1.weight"] = rng.standard_normal((300, 784)).astype(np.float32)
    bad["fc3.weight"] = np.zeros((3, 3), np.float32)
    with pytest.raises(ValueError, match="fc3.weight"):
        model.load_state_dict(bad)
    np.testing.assert_array_equal(model.fc1.weight.data, before["fc1.weight"])
    del bad["fc3.weight"]
    with pytest.raises(KeyError, match="missing"):
        model.load_state_dict(bad)
    good = dict(before, **{"fc1.weight_mask": np.zeros((300, 784), np.float32)})
    model.load_state_dict(good)
    assert model.fc1.c.data.sum() == 0 and model.fc1.weight.mask is model.fc1.c


def test_train_eval_propagate_and_zero_grad():
    model = build_model("lenet300")
    model.eval()
    assert not any(m.training for m in model.modules())
    model.train()
    assert all(m.training for m in model.modules())
    F.cross_entropy(model(Tensor(np.ones((2, 784)))), np.array([0, 1])).backward()
    assert model.fc1.weight.grad is not None
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())


def test_lenet300_parameter_count():
    model = build_model("lenet300")
    assert model.num_parameters() == model_info("lenet300")["paper_params"] == 266_610


def test_mask_gradient_is_w_times_weight_gradient(rng):
    layer = nn.Linear(3, 2, dtype=np.float64)
    layer.weight.data[...] = rng.standard_normal((2, 3))
    layer.c.requires_grad_(True)
    x = Tensor(rng.standard_normal((4, 3)))
    F.cross_entropy(layer(x), np.array([0, 1, 1, 0])).backward()
    np.testing.assert_allclose(layer.c.grad, layer.weight.data * layer.weight.grad, rtol=1e-12)


@pytest.mark.parametrize("scheme,var", [
    ("rn", lambda fi, fo: 0.01),
    ("tn", lambda fi, fo: 0.01 * 0.7737),   # variance of N(0,1) truncated at 2 std
    ("vs-x", lambda fi, fo: 2 / (fi + fo)),
    ("vs-h", lambda fi, fo: 2 / fi),
    ("lecun", lambda fi, fo: 1 / fi),
])
def test_init_variances(scheme, var):
    layer = nn.Linear(400, 300)
    nn.init.initialize(layer, scheme, rng=np.random.default_rng(1))
    w = layer.weight.data.astype(np.float64)
    assert abs(w.mean()) < 3 * np.sqrt(var(400, 300) / w.size)
    assert abs(w.var() / var(400, 300) - 1) < 0.02
    assert np.all(layer.bias.data == 0)
    if scheme in ("tn", "lecun"):
        assert np.abs(w).max() <= 2 * np.sqrt(var(400, 300)) / (0.7737 ** 0.5) + 1e-6


def test_init_is_seeded_and_keeps_pruned_weights_zero():
    a, b = nn.Linear(5, 4), nn.Linear(5, 4)
    nn.init.initialize(a, "vs-x", rng=3)
    nn.init.initialize(b, "vs-x", rng=3)
    np.testing.assert_array_equal(a.weight.data, b.weight.data)
    a.c.data[0] = 0
    nn.init.initialize(a, "vs-h", rng=4)
    assert np.all(a.weight.data[0] == 0)


def test_fans_of_conv_and_recurrent_shapes():
    assert nn.init.fans((20, 1, 5, 5)) == (25, 500)
    assert nn.init.fans((4 * 128, 28), gates=4) == (28, 128)
    with pytest.raises(ValueError, match="unknown initialization"):
        nn.init.initialize(nn.Linear(2, 2), "glorot")


def test_a_mask_cannot_be_replaced_only_written_in_place(rng):
    """The layer, its weight's .mask and the optimizers share one mask array: assigning a new
    tensor would leave the optimizer keeping the old mask's zeros."""
    layer = nn.Linear(4, 3)
    with pytest.raises(AttributeError, match="write it in place"):
        layer.weight_mask = Tensor(np.zeros((3, 4), np.float32))
    with pytest.raises(AttributeError):
        layer.c = Tensor(np.zeros((3, 4), np.float32))
    assert layer.weight.mask is layer.c is layer.weight_mask
    minisnip.masks.write(layer.c, 0)
    assert np.all(layer.weight.mask.data == 0)


def test_a_bias_mask_is_used_by_the_forward(rng):
    for layer, x in ((nn.Linear(4, 3), rng.standard_normal((2, 4))),
                     (nn.Conv2d(2, 3, 3), rng.standard_normal((2, 2, 5, 5)))):
        layer.weight.data[...] = rng.standard_normal(layer.weight.shape)
        layer.bias.data[...] = 1.0
        layer.register_mask("bias")
        layer.bias_mask.data[...] = 0
        with_bias_pruned = layer(Tensor(x.astype(np.float32))).data
        layer.bias.data[...] = 0
        np.testing.assert_array_equal(with_bias_pruned, layer(Tensor(x.astype(np.float32))).data)


def test_batchnorm_momentum_none_keeps_a_cumulative_average(rng):
    """PyTorch's momentum=None: the running statistics are the plain average over batches."""
    bn = nn.BatchNorm2d(3, momentum=None)
    batches = [rng.standard_normal((4, 3, 2, 2)).astype(np.float32) * s + s for s in (1, 2, 3)]
    for x in batches:
        bn(Tensor(x))
    means = [x.mean(axis=(0, 2, 3)) for x in batches]
    variances = [x.var(axis=(0, 2, 3), ddof=1) for x in batches]
    np.testing.assert_allclose(bn.running_mean.data, np.mean(means, axis=0), rtol=1e-5)
    np.testing.assert_allclose(bn.running_var.data, np.mean(variances, axis=0), rtol=1e-5)


def _pruned_lenet300(rng):
    model = build_model("lenet300")
    nn.init.initialize(model, "vs-x", rng=0)
    minisnip.masks.apply(model, [rng.random(c.shape) < 0.3 for _, _, c in model.named_masks()])
    return model


def test_state_dict_without_masks_is_the_plain_pruned_network(rng):
    model = _pruned_lenet300(rng)
    plain = model.state_dict(masks=False)
    assert list(plain) == ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias", "fc3.weight",
                           "fc3.bias"]                          # PyTorch's nn.Linear layout
    assert np.all(plain["fc1.weight"][model.fc1.c.data == 0] == 0)
    dense = _pruned_lenet300(np.random.default_rng(99))          # other masks before loading
    dense.load_state_dict(plain)                                # strict: masks may be missing
    assert all(np.all(c.data == 1) for _, _, c in dense.named_masks())
    np.testing.assert_array_equal(dense.fc2.weight.data, model.fc2.weight.data)


def test_loads_a_torch_nn_utils_prune_state_dict(rng):
    """torch.nn.utils.prune stores weight_orig (dense) and weight_mask instead of weight."""
    model = _pruned_lenet300(rng)
    state = model.state_dict()
    torch_style = {}
    for key, value in state.items():
        if key.endswith(".weight"):
            torch_style[key + "_orig"] = value + 0.5           # dense, nonzero where pruned
        else:
            torch_style[key] = value
    fresh = build_model("lenet300")
    fresh.load_state_dict(torch_style)
    for name, w, c in fresh.named_masks():
        np.testing.assert_array_equal(c.data, state[name + "_mask"])
        np.testing.assert_allclose(w.data, (state[name] + 0.5) * c.data)
        assert np.all(w.data[c.data == 0] == 0)
    with pytest.raises(KeyError, match="both"):
        fresh.load_state_dict(dict(torch_style, **{"fc1.weight": state["fc1.weight"]}))


def test_state_dicts_move_both_ways_with_pytorch(rng):
    torch = pytest.importorskip("torch")
    model = _pruned_lenet300(rng)
    theirs = torch.nn.Sequential()
    theirs.fc1, theirs.fc2, theirs.fc3 = (torch.nn.Linear(784, 300), torch.nn.Linear(300, 100),
                                          torch.nn.Linear(100, 10))
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in
                            model.state_dict(masks=False).items()})   # strict
    x = rng.standard_normal((5, 784)).astype(np.float32)
    want = model(Tensor(x)).data
    got = theirs.fc3(torch.relu(theirs.fc2(torch.relu(theirs.fc1(torch.from_numpy(x))))))
    np.testing.assert_allclose(got.detach().numpy(), want, rtol=1e-4, atol=1e-5)
    import torch.nn.utils.prune as torch_prune
    torch_prune.random_unstructured(theirs.fc1, "weight", amount=0.9)
    back = build_model("lenet300")
    back.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    np.testing.assert_array_equal(back.fc1.c.data, theirs.fc1.weight_mask.numpy())
    np.testing.assert_allclose(back.fc1.weight.data, theirs.fc1.weight.detach().numpy())
