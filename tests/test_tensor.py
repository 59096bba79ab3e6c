"""The engine: graph walk, accumulation, dtypes, no_grad, errors, forward values vs NumPy."""
import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, strategies as st

import minisnip
from minisnip import Tensor, no_grad, ops

from .strategies import arrays, broadcast_pair


def test_tensor_used_twice_accumulates():
    a = Tensor([1.0, 2.0], requires_grad=True)
    (a + a).sum().backward()
    np.testing.assert_array_equal(a.grad, [2.0, 2.0])
    b = Tensor([3.0], requires_grad=True)
    (b * b * b).sum().backward()
    np.testing.assert_allclose(b.grad, [27.0])


def test_diamond_graph():
    x = Tensor(2.0, requires_grad=True)
    y = x * 3
    z = y * y + y.exp()
    z.backward()
    np.testing.assert_allclose(x.grad, 2 * 3 * 6 + 3 * np.exp(6), rtol=1e-6)


def test_deep_graph_has_no_recursion_limit():
    x = Tensor(1.0, requires_grad=True, dtype=np.float64)
    y = x
    for _ in range(20000):
        y = y * 1.0001
    y.backward()
    np.testing.assert_allclose(x.grad, 1.0001 ** 20000, rtol=1e-9)


def test_grads_accumulate_across_backward_calls_until_zeroed():
    w = Tensor([1.0, 2.0], requires_grad=True)
    (w * w).sum().backward()
    (w * w).sum().backward()
    np.testing.assert_array_equal(w.grad, [4.0, 8.0])
    w.zero_grad()
    assert w.grad is None


def test_no_grad_records_nothing():
    w = Tensor([1.0], requires_grad=True)
    with no_grad():
        y = w * 2
    assert not y.requires_grad and y.is_leaf
    assert minisnip.is_grad_enabled()


def test_detach_shares_data_and_cuts_the_graph():
    w = Tensor([1.0, 2.0], requires_grad=True)
    d = (w * 2).detach()
    assert not d.requires_grad and d.is_leaf
    z = (w * d).sum()
    z.backward()
    np.testing.assert_array_equal(w.grad, [2.0, 4.0])


def test_retain_grad_on_interior_tensor():
    w = Tensor([1.0, 2.0], requires_grad=True)
    h = (w * 3).retain_grad()
    (h * h).sum().backward()
    np.testing.assert_array_equal(h.grad, 2 * h.data)


def test_dtypes():
    assert Tensor([1, 2]).dtype == np.float32
    assert Tensor(np.zeros(2)).dtype == np.float64  # float64 arrays are preserved
    assert Tensor(np.zeros(2, np.float16)).dtype == np.float32
    a = Tensor(np.ones(3, np.float32), requires_grad=True)
    y = (a * 2.5 + 1) / 3.0 - 0.5
    assert y.dtype == np.float32  # Python scalars do not upcast
    y.sum().backward()
    assert a.grad.dtype == np.float32
    b = Tensor(np.ones(3), requires_grad=True)
    (b * b).sum().backward()
    assert b.grad.dtype == np.float64


def test_tensor_copies_and_Tensor_wraps():
    a = np.zeros(3, np.float32)
    assert minisnip.tensor([1.0, 2.0]).dtype == np.float32
    copied, wrapped = minisnip.tensor(a), Tensor(a)
    a[0] = 5
    assert copied.data[0] == 0 and wrapped.data[0] == 5


def test_integer_tensor_cannot_require_grad():
    with pytest.raises(TypeError, match="floating-point"):
        Tensor(np.arange(3), requires_grad=True)


def test_backward_on_non_scalar_needs_a_gradient():
    y = Tensor(np.ones((2, 3)), requires_grad=True) * 2
    with pytest.raises(RuntimeError, match=r"shape \(2, 3\)"):
        y.backward()
    with pytest.raises(ValueError, match="must match"):
        y.backward(np.ones(3))
    y.backward(np.ones((2, 3)))


def test_backward_without_grad_is_an_error():
    with pytest.raises(RuntimeError, match="does not require grad"):
        Tensor([1.0]).sum().backward()


@pytest.mark.parametrize("fn,match", [
    (lambda: Tensor(np.ones((2, 3))) + Tensor(np.ones((4,))), r"add: shapes \(2, 3\) and \(4,\)"),
    (lambda: Tensor(np.ones((2, 3))) @ Tensor(np.ones((2, 3))), r"matmul: shapes \(2, 3\) and \(2, 3\)"),
    (lambda: Tensor(np.ones((2, 3))).reshape(4, 2), "reshape"),
    (lambda: Tensor(np.ones((2, 3))).sum(dim=2), "out of range"),
    (lambda: ops.cat([Tensor(np.ones((2, 3))), Tensor(np.ones((3, 2)))], dim=0), "cat"),
    (lambda: minisnip.functional.cross_entropy(Tensor(np.ones((2, 3))), np.array([0, 3])), r"\[0, 3\)"),
    (lambda: minisnip.functional.cross_entropy(Tensor(np.ones((2, 3))), np.array([0.0, 1.0])), "integer"),
    (lambda: minisnip.functional.linear(Tensor(np.ones((2, 3))), Tensor(np.ones((4, 5)))), "in_features"),
])
def test_errors_name_the_op_and_shapes(fn, match):
    with pytest.raises((ValueError, TypeError), match=match):
        fn()


def test_index_error_is_explained():
    with pytest.raises(IndexError, match=r"getitem.*shape \(2,\)"):
        Tensor([1.0, 2.0])[5]


@given(shapes=broadcast_pair(), data=st.data())
def test_binary_ops_match_numpy_with_broadcasting(shapes, data):
    a = data.draw(arrays(shapes[0]))
    b = data.draw(arrays(shapes[1], low=0.5, high=2.0))
    for op, ref in [(lambda x, y: x + y, np.add), (lambda x, y: x - y, np.subtract),
                    (lambda x, y: x * y, np.multiply), (lambda x, y: x / y, np.divide)]:
        np.testing.assert_allclose(op(Tensor(a), Tensor(b)).data, ref(a, b))


@given(data=st.data(), dim=st.sampled_from([None, 0, -1, (0, 1)]), keepdim=st.booleans())
def test_reductions_match_numpy(data, dim, keepdim):
    a = data.draw(arrays((3, 4, 2)))
    axis = tuple(dim) if isinstance(dim, tuple) else dim
    for name, numpy_name in (("sum", "sum"), ("mean", "mean"), ("amax", "max"), ("amin", "min")):
        got = getattr(Tensor(a), name)(dim=dim, keepdim=keepdim).data
        np.testing.assert_allclose(got, getattr(np, numpy_name)(a, axis=axis, keepdims=keepdim))


def test_cross_entropy_is_stable_for_huge_logits():
    logits = Tensor(np.array([[1000.0, -1000.0], [-1000.0, 1000.0]], np.float32), requires_grad=True)
    loss = minisnip.functional.cross_entropy(logits, np.array([0, 0]))
    assert np.isfinite(loss.data) and abs(loss.item() - 1000.0) < 1e-3
    loss.backward()
    assert np.isfinite(logits.grad).all()


def test_debug_switch_prints_each_op():
    code = ("import minisnip as m; a = m.Tensor([1.0, 2.0], requires_grad=True); "
            "(a * a).sum().backward()")
    env = dict(os.environ, MINISNIP_DEBUG="1",
               PYTHONPATH=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         timeout=120)
    assert "Mul" in out.stderr and "forward" in out.stderr and "backward" in out.stderr
    assert "ms" in out.stderr


def test_tensor_function_keeps_array_dtypes():
    assert minisnip.tensor(np.zeros(3)).dtype == np.float64
    assert minisnip.tensor(np.arange(3)).dtype == np.int64  # class indices stay integers
    assert minisnip.tensor(Tensor(np.zeros(2))).dtype == np.float64


def test_max_gradient_at_ties_as_pytorch():
    """max(dim): to the returned index (the first maximum); max() and amax: shared evenly."""
    x = Tensor(np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]]), requires_grad=True)
    x.max(dim=1).values.sum().backward()
    np.testing.assert_array_equal(x.grad, [[0, 1, 0], [1, 0, 0]])
    x.grad = None
    x.max().backward()
    np.testing.assert_array_equal(x.grad, [[0, 0.5, 0.5], [0, 0, 0]])
    x.grad = None
    x.amax(dim=1).sum().backward()
    np.testing.assert_array_equal(x.grad, [[0, 0.5, 0.5], [0.5, 0.5, 0]])


def test_max_and_min_with_a_dim_return_values_and_indices_as_pytorch():
    """``x.max(1)[0]`` (a PyTorch idiom) is the values, not row 0's maximum; indices are an
    int64 array of the first extreme; a tuple of dims is amax's, and is refused by max."""
    x = Tensor(np.array([[1.0, 5.0, 5.0], [7.0, 2.0, 7.0]]))
    result = x.max(1)
    values, indices = result
    assert type(result).__name__ == "max" and result.values is values
    np.testing.assert_array_equal(x.max(1)[0].data, [5.0, 7.0])
    np.testing.assert_array_equal(indices, [1, 0])
    assert isinstance(indices, np.ndarray) and indices.dtype == np.int64
    low = x.min(dim=-1, keepdim=True)
    assert type(low).__name__ == "min" and low.values.shape == (2, 1) == low.indices.shape
    np.testing.assert_array_equal(low.indices, [[0], [1]])
    assert x.max().item() == 7.0 and x.min().item() == 1.0 and x.max().shape == ()
    np.testing.assert_array_equal(ops.amax(x, (0, 1), keepdim=True).data, [[7.0]])
    np.testing.assert_array_equal(x.amin(0).data, [1.0, 2.0, 5.0])
    with pytest.raises(TypeError, match=r"max: dim must be an int, got tuple \(0, 1\); the "
                                        r"maximum over several dims is amax\(x, dim=\(0, 1\)\)"):
        x.max((0, 1))
    with pytest.raises(TypeError, match=r"min: dim must be an int.*amin\(x, dim=\(0,\)\)"):
        ops.min(x, [0])
    with pytest.raises(ValueError, match=r"amax: cannot reduce a tensor of shape \(2, 0\) over "
                                         r"dim 1: a reduced axis is empty"):
        Tensor(np.zeros((2, 0))).amax(1)


REDUCTIONS = {
    "max(dim)": (lambda t, d, k: t.max(d, keepdim=k), True),
    "min(dim)": (lambda t, d, k: t.min(d, keepdim=k), True),
    "amax": (lambda t, d, k: t.amax(d, keepdim=k), False),
    "amin": (lambda t, d, k: t.amin(d, keepdim=k), False),
    "max()": (lambda t, d, k: t.max(), False),
    "min()": (lambda t, d, k: t.min(), False),
}


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
@given(data=st.data())
def test_max_min_amax_amin_agree_with_pytorch_on_ties_and_nan(name, data):
    """Values, indices and gradients, against torch on CPU, for entries drawn from a few
    values (ties everywhere) with NaN and infinities."""
    torch = pytest.importorskip("torch")
    shape = data.draw(st.lists(st.integers(1, 4), min_size=1, max_size=3))
    pool = data.draw(st.sampled_from([[0.0, 1.0, 2.0], [0.0, 1.0, np.nan], [-np.inf, 1.0, np.inf],
                                      [np.nan, np.nan, 3.0]]))
    rng = np.random.default_rng(data.draw(st.integers(0, 2 ** 32 - 1)))
    x = rng.choice(pool, size=shape)
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    keepdim = data.draw(st.booleans())
    reduce, has_indices = REDUCTIONS[name]
    xm = Tensor(x, requires_grad=True)
    ours = reduce(xm, dim, keepdim)
    xt = torch.tensor(x, requires_grad=True)
    theirs = reduce(xt, dim, keepdim)
    if has_indices:
        np.testing.assert_array_equal(ours.indices, theirs.indices.numpy())
        ours, theirs = ours.values, theirs.values
    np.testing.assert_array_equal(ours.data, theirs.detach().numpy())
    g = rng.standard_normal(ours.shape)
    ours.backward(g)
    theirs.backward(torch.tensor(g))
    np.testing.assert_allclose(xm.grad, xt.grad.numpy(), rtol=1e-12, equal_nan=True)


@pytest.mark.parametrize("index", [np.array([0, 2, 0]), [0, 0], (slice(None), np.array([1, 1]))],
                         ids=["ndarray", "list", "tuple-with-array"])
def test_repeated_integer_indices_accumulate(index):
    a = np.arange(12.0).reshape(3, 4)
    x = Tensor(a, requires_grad=True)
    x[index].sum().backward()
    expected = np.zeros_like(a)
    np.add.at(expected, index, 1.0)
    np.testing.assert_array_equal(x.grad, expected)


def test_slices_and_masks_route_gradients_to_selected_entries():
    x = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    (x[:, ::2] * 2).sum().backward()
    np.testing.assert_array_equal(x.grad, [[2, 0, 2], [2, 0, 2]])
    x.grad = None
    x[x.data > 2].sum().backward()
    np.testing.assert_array_equal(x.grad, [[0, 0, 0], [1, 1, 1]])


FLOAT32_OPS = {
    "arith-scalars": lambda t: (2.5 - t * 0.5 + 1) / 3.0,
    "pow-numpy-scalar": lambda t: t ** np.float64(2.0),
    "unary": lambda t: t.exp().log().tanh().sigmoid().relu().abs() - t,
    "reductions": lambda t: t.sum(0) + t.mean(0) + t.max(0).values + t.amin(0) + t.min(),
    "shape": lambda t: ops.cat([t.T.reshape(-1), ops.stack([t, t], 0).flatten()], 0)[::3],
    "matmul": lambda t: t @ t.T,
    "linear": lambda t: minisnip.functional.linear(t, t, t[0]),
    "softmax": lambda t: minisnip.functional.softmax(t, dim=0),
    "cross_entropy": lambda t: minisnip.functional.cross_entropy(t, np.array([0, 1, 2])),
}


@pytest.mark.parametrize("name", sorted(FLOAT32_OPS))
def test_float32_stays_float32_forward_and_backward(name):
    x = Tensor(np.random.default_rng(0).uniform(0.5, 1.5, (3, 3)).astype(np.float32),
               requires_grad=True)
    y = FLOAT32_OPS[name](x)
    assert y.dtype == np.float32, f"{name}: forward upcast to {y.dtype}"
    y.backward(np.ones(y.shape, np.float32))
    assert x.grad.dtype == np.float32


@given(shape=st.sampled_from([(3, 4), (2, 3, 4)]), data=st.data())
def test_unary_and_shape_ops_match_numpy(shape, data):
    a = data.draw(arrays(shape, low=0.1, high=2.0))
    t = Tensor(a)
    for got, want in [(t.exp(), np.exp(a)), (t.log(), np.log(a)), (t.tanh(), np.tanh(a)),
                      (t.sigmoid(), 1 / (1 + np.exp(-a))), ((-t).relu(), np.maximum(-a, 0)),
                      ((-t).abs(), np.abs(a)), (t ** 1.5, a ** 1.5),
                      (t.transpose(0, -1), np.swapaxes(a, 0, -1)), (t.flatten(), a.ravel()),
                      (t[..., 1:3], a[..., 1:3]), (t @ t.transpose(-1, -2), a @ np.swapaxes(a, -1, -2))]:
        np.testing.assert_allclose(got.data, want, rtol=1e-12, atol=1e-12)


def test_backward_twice_through_one_graph_is_an_error_as_in_pytorch():
    """It silently doubled the gradients before (issue 9, item 8)."""
    w = Tensor([1.0, 2.0], requires_grad=True)
    loss = (w * w).sum()
    loss.backward()
    with pytest.raises(RuntimeError, match=r"Sum.backward: .*second time.*retain_graph=True"):
        loss.backward()
    np.testing.assert_array_equal(w.grad, [2.0, 4.0])
    shared = w * 3                     # a part of the graph used by a second loss
    shared.sum().backward()
    with pytest.raises(RuntimeError, match=r"Mul.backward: .*second time"):
        (shared * shared).sum().backward()


def test_retain_graph_allows_a_second_backward():
    w = Tensor([1.0, 2.0], requires_grad=True)
    loss = (w * w).sum()
    loss.backward(retain_graph=True)
    loss.backward()
    np.testing.assert_array_equal(w.grad, [4.0, 8.0])


def test_backward_frees_what_the_forward_saved(rng):
    import weakref
    x = Tensor(rng.standard_normal(1000), requires_grad=True)
    for retain, freed in ((True, False), (False, True)):
        loss = (x.exp() * x).tanh().sum()
        tanh_node = loss._node.parents[0]._node
        mul_node = tanh_node.parents[0]._node
        watched = [weakref.ref(a) for a in (*tanh_node.ctx.saved, mul_node.ctx.saved[0])]
        assert all(r() is not None for r in watched)  # tanh's output, exp's output
        loss.backward(retain_graph=retain)
        assert all((r() is None) == freed for r in watched), retain
        assert loss.item() == loss.item()  # the result itself stays


class _UpcastingTanh(minisnip.autograd.Function):
    """A planted bug: tanh whose backward computes in float64 whatever the input."""

    @staticmethod
    def forward(ctx, a):
        out = np.tanh(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved
        return grad * (1 - out.astype(np.float64) ** 2)


def test_a_backward_that_changes_the_dtype_is_an_error_not_a_silent_cast():
    """The engine casts a gradient back only where the forward promoted (a float32 input of a
    float64 result, as PyTorch does); an op that upcasts its own backward is a bug, and was
    hidden by the cast before."""
    x = Tensor(np.ones(3, np.float32), requires_grad=True)
    with pytest.raises(RuntimeError, match=r"_UpcastingTanh.backward returned a float64 "
                                           r"gradient for a float32 input"):
        _UpcastingTanh.apply(x).sum().backward()
    y = Tensor(np.ones(3, np.float64), requires_grad=True)
    (x * y).sum().backward()           # promoted: the float32 side gets a float32 gradient
    assert x.grad.dtype == np.float32 and y.grad.dtype == np.float64


def test_raw_unwraps_tensors_only_and_every_family_takes_plain_arrays(rng):
    """One ``raw`` for every op family (two of three copies returned an ndarray's memoryview,
    ``ndarray.data``, instead of the array)."""
    from minisnip import functional as F
    from minisnip.tensor import raw
    a = rng.standard_normal((2, 3))
    assert raw(a) is a and raw(Tensor(a)) is a and raw(2.0) == 2.0
    x, w = rng.standard_normal((2, 3, 5, 4)).transpose(0, 1, 3, 2), rng.standard_normal((2, 3, 3, 3))
    assert F.conv2d(x, Tensor(w)).shape == (2, 2, 2, 3)
    assert F.max_pool2d(x, 2).shape == (2, 3, 2, 2)
    xs = rng.standard_normal((4, 3, 2)).transpose(1, 0, 2)
    hs, c_n = F.lstm(xs, np.zeros((4, 5)), np.zeros((4, 5)), np.ones((20, 2)), np.ones((20, 5)),
                     np.ones(20), np.ones(20))
    assert hs.shape == (3, 4, 5) and c_n.shape == (4, 5)
    with pytest.raises(ValueError, match=r"Conv2d: kernel_size must be an int or a pair of ints"):
        minisnip.nn.Conv2d(3, 4, (3, 3, 3))
    with pytest.raises(ValueError, match=r"log_softmax: dim 2 is out of range"):
        F.log_softmax(Tensor(a), dim=2)
    with pytest.raises(ValueError, match=r"sparse_linear: input of shape \(2, 3\)"):
        from minisnip.kernels.sparse import pattern_from_mask
        F.sparse_linear(a, Tensor(np.ones((4, 5))), None, pattern_from_mask(np.ones((4, 5))))


def test_power_zero_has_zero_gradient_everywhere_as_in_pytorch():
    x = Tensor(np.array([0.0, -1.5, 2.0]), requires_grad=True)
    (x ** 0).sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.0, 0.0])


def test_leaf_gradients_never_alias_each_other_or_the_output_gradient():
    """Leaves take a backward's new arrays without a copy (autograd._new_array), but never an
    array that something else holds: the incoming gradient, a view of it, or one array
    returned for two inputs."""
    a, b = Tensor(np.ones(3), requires_grad=True), Tensor(np.ones(3), requires_grad=True)
    g = np.ones(3)
    (a + b).backward(g)                      # Add's backward returns the incoming array twice
    a.grad[0] = 99.0
    assert b.grad[0] == 1.0 and g[0] == 1.0
    c = Tensor(np.ones((2, 3)), requires_grad=True)
    g6 = np.arange(6.0)
    c.reshape(6).backward(g6)                # a view of the incoming gradient
    g6[:] = -1.0
    np.testing.assert_array_equal(c.grad, np.arange(6.0).reshape(2, 3))
    w = Tensor(np.full(3, 2.0), requires_grad=True)
    (w * w).sum().backward()                 # two contributions: a sum, a new array
    np.testing.assert_array_equal(w.grad, [4.0, 4.0, 4.0])


def test_a_custom_function_passing_its_gradient_through_does_not_alias_it():
    from minisnip.autograd import Function

    class PassThrough(Function):
        @staticmethod
        def forward(ctx, x):
            return x.copy()

        @staticmethod
        def backward(ctx, grad):
            return (grad,)

    x = Tensor(np.zeros(4), requires_grad=True)
    g = np.ones(4)
    PassThrough.apply(x).backward(g)
    g[:] = 7.0
    np.testing.assert_array_equal(x.grad, np.ones(4))


def test_a_gradient_that_is_a_saved_array_is_copied():
    from minisnip.autograd import Function

    class ScaleBySaved(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(np.full(x.shape, 3.0))
            return 3.0 * x

        @staticmethod
        def backward(ctx, grad):
            (three,) = ctx.saved
            return (three,)  # d(3x)/dx for a gradient of ones: the saved array itself

    x = Tensor(np.zeros(2), requires_grad=True)
    y = ScaleBySaved.apply(x)
    y.backward(np.ones(2), retain_graph=True)
    y._node.ctx.saved[0][:] = -1.0
    np.testing.assert_array_equal(x.grad, [3.0, 3.0])


def test_a_gradient_kept_as_a_context_attribute_is_copied():
    from minisnip.autograd import Function

    class Doubled(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.two = np.full(x.shape, 2.0)
            return 2.0 * x

        @staticmethod
        def backward(ctx, grad):
            return (ctx.two,)

    x = Tensor(np.zeros(2), requires_grad=True)
    y = Doubled.apply(x)
    y.backward(np.ones(2), retain_graph=True)
    x.grad *= 0.5                                  # must not change what the node holds
    y.backward(np.ones(2))
    np.testing.assert_array_equal(x.grad, [3.0, 3.0])
