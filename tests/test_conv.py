"""Convolution, pooling and BatchNorm kernels against their oracles; layers, models, SNIP."""
import contextlib

import numpy as np
import pytest
from hypothesis import given, strategies as st

from minisnip import Tensor, functional as F, nn, optim
from minisnip.kernels import batchnorm, conv, pool, reference
from minisnip.models import available_models, build_model, model_info
from minisnip.nn import init
from minisnip.ops import conv as conv_op
from minisnip.snip import connection_sensitivity, prune

from .strategies import arrays


@st.composite
def conv_problem(draw):
    n, c, oc = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 4))
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    stride, padding = draw(st.integers(1, 3)), draw(st.integers(0, 2))
    h = draw(st.integers(max(kh - 2 * padding, 1), 9))
    w = draw(st.integers(max(kw - 2 * padding, 1), 9))
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    x = draw(arrays((n, c, h, w), dtype=dtype))
    weight = draw(arrays((oc, c, kh, kw), dtype=dtype))
    return x, weight, stride, padding


@given(problem=conv_problem(), data=st.data())
def test_conv_kernels_match_oracles(problem, data):
    x, w, stride, padding = problem
    tol = dict(rtol=1e-4, atol=1e-4) if x.dtype == np.float32 else dict(rtol=1e-10, atol=1e-10)
    out, cols = conv.conv2d_forward(x, w, stride, padding)
    want_out, want_cols = reference.conv2d_forward(x, w, stride, padding)
    np.testing.assert_allclose(out, want_out, **tol)
    np.testing.assert_array_equal(cols, want_cols)
    g = data.draw(arrays(out.shape, dtype=x.dtype))
    np.testing.assert_allclose(conv.conv2d_input_grad(g, w, x.shape, stride, padding),
                               reference.conv2d_input_grad(g, w, x.shape, stride, padding), **tol)
    np.testing.assert_allclose(conv.conv2d_weight_grad(g, cols, w.shape),
                               reference.conv2d_weight_grad(g, want_cols, w.shape), **tol)
    n, c, h, wd = x.shape
    np.testing.assert_allclose(conv.col2im(cols, n, c, h, wd, *w.shape[2:], stride, padding),
                               reference.col2im(cols, n, c, h, wd, *w.shape[2:], stride, padding),
                               **tol)


@st.composite
def pool_geometry(draw):
    """A rectangular kernel, a stride and a padding per direction (padding <= kernel / 2, as
    PyTorch requires), and an input that fits: (kernel, stride, padding, (H, W))."""
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    padding = tuple(draw(st.integers(0, k // 2)) for k in kernel)
    size = tuple(draw(st.integers(max(k - 2 * p, 1), 8)) for k, p in zip(kernel, padding))
    return kernel, stride, padding, size


@given(data=st.data(), geometry=pool_geometry(), ties=st.booleans())
def test_pool_kernels_match_oracles(data, geometry, ties):
    kernel, stride, padding, (h, w) = geometry
    x = data.draw(arrays((2, 3, h, w)))
    if ties:
        x = np.round(x)  # many ties: the first maximum of the window wins
    out, argmax = pool.max_pool2d_forward(x, kernel, stride, padding)
    want_out, want_argmax = reference.max_pool2d_forward(x, kernel, stride, padding)
    np.testing.assert_array_equal(out, want_out)
    np.testing.assert_array_equal(argmax, want_argmax)
    back = pool.max_pool2d_backward(np.ones_like(out), argmax, h, w)
    assert back.sum() == out.size  # every window sends its gradient to exactly one input
    g = data.draw(arrays(out.shape))
    np.testing.assert_allclose(pool.max_pool2d_backward(g, argmax, h, w),
                               reference.max_pool2d_backward(g, argmax, h, w), rtol=1e-12)
    np.testing.assert_allclose(pool.avg_pool2d_forward(x, kernel, stride, padding),
                               reference.avg_pool2d_forward(x, kernel, stride, padding),
                               rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(pool.avg_pool2d_backward(g, kernel, stride, padding, h, w),
                               reference.avg_pool2d_backward(g, kernel, stride, padding, h, w),
                               rtol=1e-12, atol=1e-15)


def _pytorch_rule_max_pool(x, k, stride):
    """Values and flat indices by PyTorch's rule, window by window: the last NaN of the window
    if there is one, else its first maximum."""
    n, c, h, w = x.shape
    oh, ow = (h - k) // stride + 1, (w - k) // stride + 1
    values, where = np.empty((n, c, oh, ow)), np.empty((n, c, oh, ow), np.int64)
    for b, ch, i, j in np.ndindex(n, c, oh, ow):
        rows, cols = np.meshgrid(np.arange(i * stride, i * stride + k),
                                 np.arange(j * stride, j * stride + k), indexing="ij")
        window, flat = x[b, ch, rows, cols].ravel(), (rows * w + cols).ravel()
        nans = np.flatnonzero(np.isnan(window))
        pick = nans[-1] if nans.size else np.argmax(window)
        values[b, ch, i, j], where[b, ch, i, j] = window[pick], flat[pick]
    return values, where


@given(data=st.data(), k=st.integers(1, 3), stride=st.integers(1, 3),
       nan_fraction=st.sampled_from([0.05, 0.3, 1.0]))
def test_max_pool_propagates_nan_as_pytorch_does(data, k, stride, nan_fraction):
    """A NaN anywhere in a window makes its output NaN (not only a NaN in the first cell),
    and the gradient goes to the window's last NaN, as in PyTorch."""
    x = data.draw(arrays((2, 2, data.draw(st.integers(k, 7)), data.draw(st.integers(k, 7)))))
    rng = np.random.default_rng(data.draw(st.integers(0, 2 ** 32 - 1)))
    x = np.where(rng.random(x.shape) < nan_fraction, np.nan, x)
    out, argmax = pool.max_pool2d_forward(x, (k, k), (stride, stride), (0, 0))
    want, want_where = _pytorch_rule_max_pool(x, k, stride)
    np.testing.assert_array_equal(out, want)
    np.testing.assert_array_equal(argmax, want_where)


def test_max_pool_with_nan_agrees_with_pytorch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 6, 7))
    x[rng.random(x.shape) < 0.15] = np.nan
    for k, stride in ((2, 2), (3, 1), (3, 2)):
        xt = torch.tensor(x, requires_grad=True)
        yt = torch.nn.functional.max_pool2d(xt, k, stride)
        g = rng.standard_normal(tuple(yt.shape))
        yt.backward(torch.tensor(g))
        xm = Tensor(x, requires_grad=True)
        ym = F.max_pool2d(xm, k, stride)
        ym.backward(g)
        np.testing.assert_array_equal(ym.data, yt.detach().numpy())
        np.testing.assert_array_equal(xm.grad, xt.grad.numpy())


def test_rectangular_pooling_without_stride_tiles_the_input_as_pytorch_does():
    """stride defaults to the kernel size in both directions: a (2, 3) kernel on 4 x 6 gives
    the 2 x 2 blocks (it used stride 2 in both directions: 2 x 2 overlapping windows)."""
    x = np.arange(2 * 4 * 6, dtype=np.float64).reshape(2, 1, 4, 6) % 7
    blocks = x.reshape(2, 1, 2, 2, 2, 3)
    for function, layer, reduce in ((F.max_pool2d, nn.MaxPool2d, np.max),
                                    (F.avg_pool2d, nn.AvgPool2d, np.mean)):
        want = reduce(blocks, axis=(3, 5))
        np.testing.assert_allclose(function(x, (2, 3)).data, want, rtol=1e-12)
        np.testing.assert_allclose(layer((2, 3))(Tensor(x)).data, want, rtol=1e-12)
        assert layer((2, 3)).stride == (2, 3)


POOL_SETTINGS = [dict(kernel_size=(2, 3)), dict(kernel_size=(3, 2), stride=(1, 2)),
                 dict(kernel_size=3, stride=(2, 1), padding=1),
                 dict(kernel_size=(3, 4), stride=2, padding=(1, 2)),
                 dict(kernel_size=[2], stride=[1], padding=[1]), dict(kernel_size=2, stride=[])]


@pytest.mark.parametrize("settings", POOL_SETTINGS, ids=str)
@pytest.mark.parametrize("name", ["max_pool2d", "avg_pool2d"])
def test_pooling_agrees_with_pytorch(name, settings):
    """Values and input gradients of the functions and the modules, with PyTorch's defaults
    (max pooling pads with -inf, average pooling counts the padding as zeros), ties and -inf
    included."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x = np.round(rng.standard_normal((2, 3, 7, 8)))
    x[0, 0, :3, :3] = -np.inf if name == "max_pool2d" else 0.0
    layer = {"max_pool2d": (nn.MaxPool2d, torch.nn.MaxPool2d),
             "avg_pool2d": (nn.AvgPool2d, torch.nn.AvgPool2d)}[name]
    for ours, theirs in ((lambda t: getattr(F, name)(t, **settings),
                          lambda t: getattr(torch.nn.functional, name)(t, **settings)),
                         (layer[0](**settings), layer[1](**settings))):
        xt = torch.tensor(x, requires_grad=True)
        yt = theirs(xt)
        g = rng.standard_normal(tuple(yt.shape))
        yt.backward(torch.tensor(g))
        xm = Tensor(x, requires_grad=True)
        ym = ours(xm)
        ym.backward(g)
        np.testing.assert_allclose(ym.data, yt.detach().numpy(), rtol=1e-12)
        np.testing.assert_allclose(xm.grad, xt.grad.numpy(), rtol=1e-12, atol=1e-15)
    assert repr(layer[0](**settings)) == repr(layer[1](**settings))


@pytest.mark.parametrize("call,match", [
    (lambda x: F.max_pool2d(x, 2, dilation=2), r"max_pool2d: dilation=2 is not implemented"),
    (lambda x: F.max_pool2d(x, 2, ceil_mode=True), r"max_pool2d: ceil_mode=True is not impl"),
    (lambda x: F.max_pool2d(x, 2, return_indices=True), r"return_indices=True is not impl"),
    (lambda x: F.avg_pool2d(x, 2, count_include_pad=False), r"count_include_pad=False is not"),
    (lambda x: F.avg_pool2d(x, 2, divisor_override=3), r"avg_pool2d: divisor_override=3 is"),
    (lambda x: nn.MaxPool2d(2, ceil_mode=True), r"MaxPool2d: ceil_mode=True is not impl"),
    (lambda x: nn.AvgPool2d(2, count_include_pad=False), r"AvgPool2d: count_include_pad=False"),
    (lambda x: F.max_pool2d(x, 3, padding=2), r"padding \(2, 2\) must be at most half the "
                                              r"kernel size \(3, 3\)"),
    (lambda x: F.avg_pool2d(x, 2, stride=0), r"avg_pool2d: stride must be >= 1, got 0"),
    (lambda x: F.max_pool2d(x, (2, 2, 2)), r"kernel_size must be an int or a pair of ints"),
    (lambda x: F.max_pool2d(x, 2, padding=-1), r"max_pool2d: padding must be >= 0, got -1"),
    (lambda x: F.max_pool2d(x, 2.5), r"max_pool2d: kernel_size must be an int or a pair"),
    (lambda x: F.max_pool2d(x, 7), r"window \(7, 7\) is larger than the input \(5, 6\)"),
    (lambda x: F.max_pool2d(x.data[0], 2), r"unbatched \(C, H, W\) input is not supported"),
    (lambda x: F.avg_pool2d(x.data.astype(np.int64), 2), r"avg_pool2d: input must be float32"),
], ids=range(15))
def test_pooling_refuses_what_it_does_not_implement_naming_it(call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call(Tensor(np.ones((1, 2, 5, 6))))


@given(data=st.data(), dtype=st.sampled_from([np.float32, np.float64]))
def test_batchnorm_kernels_match_oracles(data, dtype):
    """All five outputs of the training forward (the statistics feed the running averages),
    the backward, and the evaluation forward."""
    x = data.draw(arrays((3, 4, 2, 5), dtype=dtype, low=-3, high=5))
    gamma, beta = data.draw(arrays((4,), dtype=dtype)), data.draw(arrays((4,), dtype=dtype))
    tol = dict(rtol=1e-4, atol=1e-4) if dtype == np.float32 else dict(rtol=1e-9, atol=1e-9)
    got = batchnorm.batch_norm_train_forward(x, gamma, beta, 1e-5)
    want = reference.batch_norm_train_forward(x, gamma, beta, 1e-5)
    for name, a, b in zip(("y", "xhat", "mean", "var", "inv_std"), got, want):
        assert a.dtype == b.dtype, name
        np.testing.assert_allclose(a, b, err_msg=name, **tol)
    g = data.draw(arrays(x.shape, dtype=dtype))
    for name, a, b in zip(("dx", "dgamma", "dbeta"),
                          batchnorm.batch_norm_train_backward(g, got[1], gamma, got[4]),
                          reference.batch_norm_train_backward(g, got[1], gamma, got[4])):
        np.testing.assert_allclose(a, b, err_msg=name, **tol)
    mean, var = data.draw(arrays((4,), dtype=dtype)), data.draw(arrays((4,), dtype=dtype, low=0.1))
    np.testing.assert_allclose(batchnorm.batch_norm_eval_forward(x, gamma, beta, mean, var, 1e-5),
                               reference.batch_norm_eval_forward(x, gamma, beta, mean, var, 1e-5),
                               **tol)


def test_batchnorm_layer_running_stats_and_modes(rng):
    layer = nn.BatchNorm2d(3, momentum=0.1)
    x = (rng.standard_normal((8, 3, 4, 4)) * 2 + 5).astype(np.float32)
    y = layer(Tensor(x))
    np.testing.assert_allclose(y.data.mean(axis=(0, 2, 3)), 0, atol=1e-5)
    x64 = x.astype(np.float64)
    np.testing.assert_allclose(layer.running_mean.data, 0.1 * x64.mean(axis=(0, 2, 3)), rtol=1e-5)
    unbiased = x64.var(axis=(0, 2, 3), ddof=1)
    np.testing.assert_allclose(layer.running_var.data, 0.9 + 0.1 * unbiased, rtol=1e-5)
    assert int(layer.num_batches_tracked.data) == 1
    layer.eval()
    before = layer.running_mean.data.copy()
    y_eval = layer(Tensor(x))
    np.testing.assert_array_equal(layer.running_mean.data, before)
    expected = (x - before[None, :, None, None]) / np.sqrt(layer.running_var.data[None, :, None, None] + 1e-5)
    np.testing.assert_allclose(y_eval.data, expected, rtol=1e-4, atol=1e-4)
    assert list(layer.state_dict()) == ["weight", "bias", "running_mean", "running_var",
                                        "num_batches_tracked"]


def test_conv_layer_errors_and_layout():
    layer = nn.Conv2d(3, 8, 3, padding=1)
    assert layer.weight.shape == (8, 3, 3, 3) and layer.c.shape == (8, 3, 3, 3)
    with pytest.raises(ValueError, match=r"expected input \(N, 3, H, W\)"):
        layer(Tensor(np.ones((2, 4, 5, 5))))
    with pytest.raises(ValueError, match="larger than the padded input"):
        F.conv2d(Tensor(np.ones((1, 1, 2, 2))), Tensor(np.ones((1, 1, 5, 5))))
    with pytest.raises(ValueError, match="larger than the input"):
        F.max_pool2d(Tensor(np.ones((1, 1, 2, 2))), 3)


# ------------------------------------------------ the convolution over the batch in tiles
@contextlib.contextmanager
def cols_budget(budget):
    """Run with im2col's tile budget (ops/conv.py COLS_BUDGET_BYTES) set to ``budget`` bytes."""
    before = conv_op.COLS_BUDGET_BYTES
    conv_op.COLS_BUDGET_BYTES = budget
    try:
        yield
    finally:
        conv_op.COLS_BUDGET_BYTES = before


@given(n=st.integers(0, 300), per_image=st.integers(1, 10 ** 6),
       budget=st.integers(1, 10 ** 8))
def test_batch_tiles_cover_the_batch_in_order_within_the_budget(n, per_image, budget):
    tiles = conv_op.batch_tiles(n, per_image, budget)
    assert tiles[0][0] == 0 and tiles[-1][1] == n
    assert all(a[1] == b[0] for a, b in zip(tiles, tiles[1:]))           # consecutive
    sizes = [stop - start for start, stop in tiles]
    largest = max(1, budget // per_image)
    assert all(s <= largest for s in sizes) and max(sizes) - min(sizes) <= 1    # balanced
    assert len(tiles) == max(1, -(-n // largest))                         # as few as fit


def _conv_step(x, w, b, stride, padding, needs, g):
    """conv2d forward and backward on copies: (out, dx, dw, db, what the node's context holds
    for the backward: its saved arrays and those of its products)."""
    xt, wt = Tensor(x, requires_grad=needs[0]), Tensor(w, requires_grad=needs[1])
    bt = Tensor(b, requires_grad=needs[2])
    out = F.conv2d(xt, wt, bt, stride=stride, padding=padding)
    saved = ()
    if out._node is not None:
        ctx = out._node.ctx
        saved = tuple(ctx.saved) + tuple(vars(ctx.products).values())
    if out.requires_grad:
        out.backward(g)
    return out.data, xt.grad, wt.grad, bt.grad, saved


@given(data=st.data(), n=st.integers(2, 7), dtype=st.sampled_from([np.float32, np.float64]),
       needs=st.sampled_from([(True, True, True), (True, False, False), (False, True, False)]))
def test_conv_in_batch_tiles_equals_one_tile(data, n, dtype, needs):
    """Tiny tiles (1 to n-1 images, balanced so that the batch need not divide into them)
    give the output and the three gradients of one tile, for every stride and padding; the
    weight gradient is the sum of the tiles' in tile order."""
    c, oc = data.draw(st.integers(1, 3)), data.draw(st.integers(1, 4))
    kh, kw = data.draw(st.integers(1, 4)), data.draw(st.integers(1, 4))
    stride, padding = data.draw(st.integers(1, 3)), data.draw(st.integers(0, 2))
    h = data.draw(st.integers(max(kh - 2 * padding, 1), 9))
    wd = data.draw(st.integers(max(kw - 2 * padding, 1), 9))
    x = data.draw(arrays((n, c, h, wd), dtype=dtype))
    w, b = data.draw(arrays((oc, c, kh, kw), dtype=dtype)), data.draw(arrays((oc,), dtype=dtype))
    oh, ow = (h + 2 * padding - kh) // stride + 1, (wd + 2 * padding - kw) // stride + 1
    g = data.draw(arrays((n, oc, oh, ow), dtype=dtype))
    per_image = c * kh * kw * oh * ow * np.dtype(dtype).itemsize
    images = data.draw(st.integers(1, n - 1))                      # the largest tile, in images
    with cols_budget(images * per_image + data.draw(st.integers(0, per_image - 1))):
        assert len(conv_op.batch_tiles(n, per_image)) == -(-n // images) > 1
        tiled = _conv_step(x, w, b, stride, padding, needs, g)
    with cols_budget(n * per_image):
        assert len(conv_op.batch_tiles(n, per_image)) == 1
        whole = _conv_step(x, w, b, stride, padding, needs, g)
    tol = dict(rtol=1e-5, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-12)
    for name, got, want in zip(("out", "dx", "dw", "db"), tiled[:4], whole[:4]):
        assert (got is None) == (want is None), name
        if got is not None:
            assert got.dtype == want.dtype and got.shape == want.shape, name
            np.testing.assert_allclose(got, want, err_msg=name, **tol)


def test_tiled_conv_keeps_no_column_matrix_for_the_backward(rng):
    """In tiles the forward keeps x and W only (each tile's columns are recomputed in the
    backward), so the graph holds no C*KH*KW-times-the-output matrix."""
    x, w = rng.standard_normal((6, 4, 8, 8)), rng.standard_normal((5, 4, 3, 3))
    with cols_budget(2 * 4 * 9 * 8 * 8 * 8):                               # 2 images per tile
        *_, saved = _conv_step(x, w, np.zeros(5), 1, 1, (True, True, False),
                               np.ones((6, 5, 8, 8)))
    arrays_kept = [a for a in saved if isinstance(a, np.ndarray)]
    assert sum(a.nbytes for a in arrays_kept) == x.nbytes + w.nbytes


def test_tiled_conv_agrees_with_pytorch(rng):
    """A batch of 7 in tiles of 2 and 3 images (float32, stride 2, padding 1) against
    torch.nn.functional.conv2d: output and all three gradients."""
    torch = pytest.importorskip("torch")
    x = rng.standard_normal((7, 3, 9, 9)).astype(np.float32)
    w = rng.standard_normal((4, 3, 3, 3)).astype(np.float32)
    b = rng.standard_normal(4).astype(np.float32)
    g = rng.standard_normal((7, 4, 5, 5)).astype(np.float32)
    with cols_budget(3 * 3 * 9 * 5 * 5 * 4):
        out, dx, dw, db, _ = _conv_step(x, w, b, 2, 1, (True, True, True), g)
    xt, wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    yt = torch.nn.functional.conv2d(xt, wt, bt, stride=2, padding=1)
    yt.backward(torch.tensor(g))
    for name, got, want in (("out", out, yt), ("dx", dx, xt.grad), ("dw", dw, wt.grad),
                            ("db", db, bt.grad)):
        np.testing.assert_allclose(got, want.detach().numpy(), rtol=1e-4, atol=1e-4,
                                   err_msg=name)


class SmallConvNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(2, 3, 3, padding=1, dtype=np.float64)
        self.fc = nn.Linear(3 * 2 * 2, 3, dtype=np.float64)

    def forward(self, x):
        return self.fc(F.max_pool2d(self.conv(x).tanh(), 2).flatten(1))


def _conv_net(seed):
    rng = np.random.default_rng(seed)
    model = SmallConvNet()
    init.initialize(model, "vs-h", rng=rng)
    return model, rng.standard_normal((4, 2, 4, 4)), rng.integers(0, 3, 4)


@given(seed=st.integers(0, 1000))
def test_snip_on_conv_net_mask_gradient_is_w_times_weight_gradient(seed):
    model, x, y = _conv_net(seed)
    sens = connection_sensitivity(model, x, y)
    F.cross_entropy(model(Tensor(x)), y).backward()
    for g, (_, w, _) in zip(sens.g, model.named_masks()):
        np.testing.assert_allclose(g, w.data * w.grad, rtol=1e-9, atol=1e-13)


def test_snip_on_conv_net_matches_finite_differences():
    model, x, y = _conv_net(3)
    sens = connection_sensitivity(model, x, y)
    conv_mask = model.conv.c
    for j in list(np.ndindex(conv_mask.shape))[::5]:
        values = []
        for delta in (1e-6, -1e-6):
            conv_mask.data[j] = 1 + delta
            values.append(F.cross_entropy(model(Tensor(x)), y).item())
        conv_mask.data[j] = 1
        assert abs((values[0] - values[1]) / 2e-6 - sens.g[0][j]) < 1e-7


def test_lenet5_no_relu_after_convolutions_and_count():
    model = build_model("lenet5")
    assert model.num_parameters() == 431_080
    assert [n for n, _, _ in model.named_masks()] == ["conv1.weight", "conv2.weight",
                                                      "fc3.weight", "fc4.weight"]


# The paper's Table 2 says 10.0m for WRN-16-8; the standard construction (and Zagoruyko &
# Komodakis' own table) gives 11.0m, see models/cnn.py.
KNOWN_MISPRINTS = {"wrn-16-8": 11_000_000}


@pytest.mark.parametrize("name", [m for m in available_models() if model_info(m)["input_kind"] == "image"])
def test_parameter_counts_match_the_paper(name):
    expected = KNOWN_MISPRINTS.get(name, model_info(name)["paper_params"])
    count = build_model(name).num_parameters()
    assert abs(count - expected) <= 0.02 * expected, f"{name}: {count:,} vs {expected:,}"


def _prune_and_step(name, steps=2):
    rng = np.random.default_rng(0)
    model = build_model(name)
    init.initialize(model, "vs-x", rng=rng)
    shape = (2, 1, 28, 28) if name == "lenet5" else (2, 3, 32, 32)
    x = rng.standard_normal(shape).astype(np.float32)
    y = np.array([1, 7])
    report = prune(model, x, y, sparsity=0.9)
    opt = optim.SGD(list(model.parameters()), lr=0.01, momentum=0.9, weight_decay=5e-4)
    losses = []
    for _ in range(steps):
        loss = F.cross_entropy(model(Tensor(x)), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert abs(report.sparsity - 0.9) < 1e-6 and np.all(np.isfinite(losses))
    for _, w, c in model.named_masks():
        assert np.all(w.data[c.data == 0] == 0)


@pytest.mark.parametrize("name", [m for m in available_models() if model_info(m)["input_kind"] == "image"])
def test_every_conv_model_prunes_and_trains(name):
    """Every CIFAR model (and LeNet-5): a SNIP prune and two SGD steps on a batch of two
    (about a minute for all of them on 2 cores, so it runs in CI)."""
    _prune_and_step(name)
