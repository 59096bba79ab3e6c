"""The public API under random bad arguments (issue 9's "Done when"; the command line's half is
tests/test_fuzz_cli.py). Ops (``minisnip.functional``, ``minisnip.ops``, Tensor methods and
operators) and layers (Linear, Conv2d, pooling, BatchNorm2d, LSTM, GRU) get arguments drawn
from pools of good and bad values: wrong shapes and ndims, int and bool dtypes, float16,
NaN/inf hyper-parameters, zero or negative sizes, strides and paddings, non-contiguous arrays,
Python lists, strings, None.

Every call either
* succeeds with the result a reference computes: NumPy for the engine's ops (elementwise,
  reductions, shapes, products, losses), PyTorch for the layers' ops and the layers when it is
  installed (without it: the kernels' NumPy oracles for conv2d and pooling; for batch_norm and
  the layers only a clean error or success, finite for batch_norm); a result for arguments the
  reference refuses fails the test (it would be a silent reinterpretation); or
* raises ValueError or TypeError (IndexError for indexing) from a ``raise`` statement of
  minisnip's own checks (the traceback's last frame is a ``raise`` line in the package), with a
  message naming the op and an argument at fault.
Never an exception from inside NumPy or Numba, never another type.
"""
from __future__ import annotations

import linecache
import os
import traceback

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import minisnip
from minisnip import Tensor, functional as F, nn, ops
from minisnip.kernels import reference as oracle

try:
    import torch
except ImportError:  # the layers are then compared with the kernels' NumPy oracles
    torch = None

PACKAGE = os.path.dirname(os.path.abspath(minisnip.__file__)) + os.sep
# more examples than the default profile's 25 (the whole fuzz stays well under a minute);
# the thorough profile's count when it is larger
FUZZ = settings(max_examples=max(60, settings.default.max_examples))
NAN, INF = float("nan"), float("inf")


# ----------------------------------------------------------------------------- the checker
def _last_frame(error):
    tb = error.__traceback__
    while tb.tb_next is not None:
        tb = tb.tb_next
    return tb.tb_frame.f_code.co_filename, tb.tb_lineno


def _assert_clean_error(error, op, at_fault, indexing=False):
    """Raised by a ``raise`` of minisnip, of an allowed type, naming the op and an argument.
    (``backward`` may also raise PyTorch's RuntimeError about the graph, as it does.)"""
    allowed = (ValueError, TypeError) + ((IndexError,) if indexing else ()) + (
        (RuntimeError,) if op == "backward" else ())
    where = "".join(traceback.format_exception(type(error), error, error.__traceback__))[-2500:]
    filename, line = _last_frame(error)
    source = linecache.getline(filename, line).strip()
    assert isinstance(error, allowed), f"{op}: {type(error).__name__} is not allowed\n{where}"
    assert filename.startswith(PACKAGE) and source.startswith("raise"), \
        f"{op}: raised outside minisnip's own checks ({filename}:{line})\n{where}"
    message = str(error)
    names = (op,) if isinstance(op, str) else op           # a layer: its class or its function
    assert any(name.lower() in message.lower() for name in names), \
        f"the error does not name the op {op!r}: {message}"
    assert any(name in message for name in at_fault), \
        f"{op}: the error names none of {sorted(at_fault)}: {message}"


def _arrays(result) -> list:
    """A result (Tensor, array, number, tuples of them) as a flat list of arrays."""
    if isinstance(result, (tuple, list)):
        return [a for part in result for a in _arrays(part)]
    if torch is not None and isinstance(result, torch.Tensor):
        return [result.detach().numpy()]
    return [np.asarray(result.data if isinstance(result, Tensor) else result)]


def _assert_same(op, got, want):
    got, want = _arrays(got), _arrays(want)
    assert len(got) == len(want), f"{op}: {len(got)} results, the reference has {len(want)}"
    for g, w in zip(got, want):
        assert g.shape == w.shape, f"{op}: shape {g.shape}, the reference gives {w.shape}"
        if w.dtype.kind in "biu" and g.dtype.kind in "biu":
            np.testing.assert_array_equal(g, w, err_msg=op)
        else:
            single = np.float32 in (g.dtype, w.dtype)
            np.testing.assert_allclose(g.astype(np.float64), w.astype(np.float64),
                                       rtol=2e-5 if single else 1e-9,
                                       atol=2e-5 if single else 1e-12, equal_nan=True, err_msg=op)


def check(op, call, reference, at_fault, indexing=False):
    """Run ``call``: a clean error, or the reference's result. ``reference`` may be None (no
    reference for these arguments: only a clean error or success is checked)."""
    try:
        with np.errstate(all="ignore"):
            result = call()
    except Exception as error:  # noqa: BLE001 - the point is to look at any error
        _assert_clean_error(error, op, at_fault, indexing)
        return None
    if reference is not None:
        try:
            with np.errstate(all="ignore"):
                expected = reference()
        except Exception as error:  # noqa: BLE001
            raise AssertionError(f"{op}: minisnip computed a result for arguments its reference "
                                 f"refuses ({type(error).__name__}: {error})") from error
        _assert_same(op, result, expected)
    return result


# --------------------------------------------------------------------------------- values
class Arg:
    """One argument: pools of good and bad values, each a function of a NumPy Generator (so
    that arrays are fresh for each example: some ops write into their arguments)."""

    def __init__(self, name, good, bad=()):
        self.name, self.good, self.bad = name, list(good), list(bad)


def draw_args(data, args, most_bad=2):
    """Values for ``args`` (name -> value) and the names drawn from the bad pools: first how
    many arguments are bad (0 to ``most_bad``; hypothesis favours 0, so the good path runs
    often), then which, then a value from each argument's pool."""
    rng = np.random.default_rng(data.draw(st.integers(0, 2 ** 32 - 1), label="seed"))
    can_be_bad = [arg.name for arg in args if arg.bad]
    count = data.draw(st.integers(0, min(most_bad, len(can_be_bad))), label="how many bad")
    bad = set(data.draw(st.lists(st.sampled_from(can_be_bad), min_size=count, max_size=count,
                                 unique=True), label="bad")) if count else set()
    values = {}
    for arg in args:
        pool = arg.bad if arg.name in bad else arg.good
        values[arg.name] = pool[data.draw(st.integers(0, len(pool) - 1), label=arg.name)](rng)
    return values, bad


def normal(shape, dtype=np.float64, layout="contiguous"):
    """A maker of standard-normal arrays; ``layout`` "transposed"/"sliced": a non-contiguous view."""
    def make(rng):
        if dtype == np.bool_:
            return rng.random(shape) < 0.5
        if np.dtype(dtype).kind in "iu":
            return rng.integers(-3, 4, shape).astype(dtype)
        if layout == "transposed" and len(shape) >= 2:
            return rng.standard_normal(shape[::-1]).astype(dtype).T
        if layout == "sliced":
            big = rng.standard_normal(tuple(2 * s for s in shape)).astype(dtype)
            return big[tuple(slice(None, None, 2) for _ in shape)]
        return rng.standard_normal(shape).astype(dtype)
    return make


def tensor(shape, dtype=np.float64, layout="contiguous", requires_grad=False):
    make = normal(shape, dtype, layout)
    return lambda rng: Tensor(make(rng), requires_grad=requires_grad and
                              np.dtype(dtype).kind == "f")


def const(value):
    return lambda rng: value


NOT_TENSORS = [const(None), const([[1.0, 2.0], [3.0, 4.0]]), const(2.5), const("x")]
NOT_INTS = [const(2.5), const(NAN), const(INF), const(None), const("2"), const(True)]
NOT_REALS = [const(NAN), const(INF), const(-INF), const(None), const("0.1"), const([0.1])]


def raw(value):
    return value.data if isinstance(value, Tensor) else value


def to_torch(value):
    """A torch version of a drawn value: Tensors and arrays become torch tensors."""
    if isinstance(value, (Tensor, np.ndarray)):
        return torch.from_numpy(np.ascontiguousarray(raw(value)))
    if isinstance(value, (tuple, list)) and any(isinstance(v, (Tensor, np.ndarray)) for v in value):
        return type(value)(to_torch(v) for v in value)
    return value


# ------------------------------------------------------- elementwise ops and the operators
OPERANDS = [tensor(s, d, lay) for s in [(2, 3), (3,), (1, 3), ()]
            for d in (np.float32, np.float64) for lay in ("contiguous", "transposed")] + [
    normal((2, 3)), normal((2, 3), np.float32, "sliced"), const(2), const(-0.5), const(2.5)]
BAD_OPERANDS = [tensor((2, 3), np.int64), tensor((3,), np.bool_), normal((2, 3), np.float16),
                normal((3,), np.int64), tensor((4,)), tensor((0, 3)), const(True), const(NAN),
                const(None), const([1.0, 2.0, 3.0]), const("abc")] + NOT_TENSORS[:1]

BINARY = {
    "add": (ops.add, np.add), "sub": (ops.sub, np.subtract), "mul": (ops.mul, np.multiply),
    "div": (ops.div, np.divide), "matmul": (ops.matmul, np.matmul),
    "add +": (lambda a, b: a + b, np.add), "sub -": (lambda a, b: a - b, np.subtract),
    "mul *": (lambda a, b: a * b, np.multiply), "div /": (lambda a, b: a / b, np.divide),
    "matmul @": (lambda a, b: a @ b, np.matmul),
}
# matmul's operands mostly fit: (.., 3) on the left, (3, ..) on the right
LEFT = [tensor((2, 3)), tensor((3,), np.float32), tensor((4, 2, 3), layout="transposed"),
        normal((2, 3), layout="sliced"), tensor((2, 3), np.int64)]
RIGHT = [tensor((3, 4)), tensor((3,)), tensor((2, 3, 4), np.float32), normal((3, 2), np.int64),
         tensor((3, 4), layout="transposed")]
BAD_PRODUCT = [tensor((4, 3)), tensor((2,)), tensor(()), tensor((3, 3), np.bool_),
               normal((3, 3), np.float16), tensor((5, 3, 3)), const(2.0), const(None),
               const([[1.0, 2.0, 3.0]])]


def _operator_reference(numpy_function, a, b):
    if any(isinstance(v, (list, str)) or v is None for v in (a, b)):
        raise TypeError("not an operand")
    return numpy_function(raw(a), raw(b))


@pytest.mark.parametrize("name", sorted(BINARY))
@FUZZ
@given(data=st.data())
def test_binary_ops_and_operators(name, data):
    function, numpy_function = BINARY[name]
    product = name.startswith("matmul")
    args, bad = draw_args(data, [Arg("a", LEFT if product else OPERANDS,
                                     BAD_PRODUCT if product else BAD_OPERANDS),
                                 Arg("b", RIGHT if product else OPERANDS,
                                     BAD_PRODUCT if product else BAD_OPERANDS)])
    a, b = args["a"], args["b"]
    if not isinstance(a, Tensor) and not isinstance(b, Tensor) and " " in name:
        a = Tensor(a) if isinstance(a, np.ndarray) and a.dtype.kind == "f" else Tensor(np.ones(3))
    op = name.split()[0]
    check(op, lambda: function(a, b), lambda: _operator_reference(numpy_function, a, b),
          {"operand", "shape", "dtype", "exponent"} if not bad else
          {"operand", "shape", "dtype", "first", "second"})


UNARY = {"neg": (ops.neg, np.negative), "exp": (ops.exp, np.exp), "log": (ops.log, np.log),
         "relu": (ops.relu, lambda a: np.maximum(a, 0)), "tanh": (ops.tanh, np.tanh),
         "sigmoid": (ops.sigmoid, lambda a: 1 / (1 + np.exp(-np.asarray(a, np.float64)))),
         "abs": (ops.abs, np.abs), "neg -x": (lambda a: -a, np.negative),
         "softmax": (lambda a: F.softmax(a, dim=-1),
                     lambda a: np.exp(a) / np.exp(a).sum(axis=-1, keepdims=True))}


@pytest.mark.parametrize("name", sorted(UNARY))
@FUZZ
@given(data=st.data())
def test_unary_ops(name, data):
    function, numpy_function = UNARY[name]
    args, _ = draw_args(data, [Arg("input", OPERANDS[:-3], BAD_OPERANDS)])
    x = args["input"]
    if " " in name and not isinstance(x, Tensor):   # an operator: -x of a non-Tensor is not ours
        function = UNARY[name.split()[0]][0]
    check(name.split()[0], lambda: function(x),
          lambda: numpy_function(raw(_refuse_non_arrays(x))), {"input", "dtype"})


def _refuse_non_arrays(x):
    if not isinstance(x, (Tensor, np.ndarray)):
        raise TypeError("not an array")
    return x


EXPONENTS = [const(2), const(0), const(0.5), const(-1.0), const(3), const(np.float64(2.0))]
BAD_EXPONENTS = [const(-1), const(NAN), const(None), const("2"), const([2]), tensor((2, 3))]


@FUZZ
@given(data=st.data())
def test_pow(data):
    args, bad = draw_args(data, [Arg("input", OPERANDS[:-3], BAD_OPERANDS[:5]),
                                 Arg("exponent", EXPONENTS, BAD_EXPONENTS)])
    x, e = args["input"], args["exponent"]

    def reference():
        if not np.isscalar(e) or isinstance(e, str):
            raise TypeError("exponent")
        return np.power(raw(_refuse_non_arrays(x)), e)

    for call in (lambda: ops.pow(x, e), lambda: x ** e if isinstance(x, Tensor) else ops.pow(x, e)):
        check("pow", call, reference, {"exponent", "input", "dtype", "integer"})


# ------------------------------------------------------------------------------ reductions
REDUCED = [tensor((2, 3, 4)), tensor((2, 3, 4), np.float32, "transposed"), tensor((3,)),
           tensor((2, 3), np.int64), tensor((2, 3), np.bool_), normal((3, 2)), tensor(())]
BAD_REDUCED = [tensor((0, 3)), tensor((3, 0))] + NOT_TENSORS
DIMS = [const(None), const(0), const(1), const(-1), const((0, 1)), const([1, 0])]
BAD_DIMS = [const(3), const(-4), const((0, 0)), const(()), const(1.5), const(True), const("0"),
            const((0, 5)), tensor((2,))]
KEEPDIMS = [const(False), const(True)]
BAD_KEEPDIMS = [const(None), const(1), const("yes")]


def _numpy_reduction(name, x, dim, keepdim):
    a = raw(_refuse_non_arrays(x))
    if not isinstance(keepdim, bool):
        raise TypeError("keepdim")
    if isinstance(dim, list):
        dim = tuple(dim)
    if a.ndim == 0 and dim is not None:     # PyTorch: a 0-d tensor takes dim 0 or -1
        dims = dim if isinstance(dim, tuple) else (dim,)
        if not all(type(d) is int and d in (0, -1) for d in dims) or len(dims) != 1:
            raise ValueError("dim")
        dim = None if name not in ("max", "min") else dim
        if name in ("max", "min"):
            return a, np.int64(0)
    if name in ("max", "min") and dim is not None:
        if not isinstance(dim, int) or isinstance(dim, bool):
            raise TypeError("dim")
        values = getattr(np, name)(a, axis=dim, keepdims=keepdim)
        indices = getattr(np, f"arg{name}")(a, axis=dim, keepdims=keepdim)
        return values, indices
    if name in ("max", "min") and keepdim:
        raise TypeError("keepdim without dim")
    if dim == () or isinstance(dim, bool) or (isinstance(dim, tuple) and any(
            isinstance(d, bool) for d in dim)):
        raise TypeError("dim")
    numpy_name = {"amax": "max", "amin": "min"}.get(name, name)
    return getattr(np, numpy_name)(a, axis=dim, keepdims=keepdim)


@pytest.mark.parametrize("name", ["sum", "mean", "amax", "amin", "max", "min"])
@FUZZ
@given(data=st.data())
def test_reductions(name, data):
    args, bad = draw_args(data, [Arg("input", REDUCED, BAD_REDUCED), Arg("dim", DIMS, BAD_DIMS),
                                 Arg("keepdim", KEEPDIMS, BAD_KEEPDIMS)])
    x, dim, keepdim = args["input"], args["dim"], args["keepdim"]
    as_method = isinstance(x, Tensor) and data.draw(st.booleans(), label="method")
    call = ((lambda: getattr(x, name)(dim, keepdim)) if as_method
            else (lambda: getattr(ops, name)(x, dim=dim, keepdim=keepdim)))
    check(name, call, lambda: _numpy_reduction(name, x, dim, keepdim),
          bad | {"input", "dim", "empty", "shape"})


# ---------------------------------------------------------------------------- shape ops
SHAPE_INPUTS = [tensor((2, 3, 4)), tensor((2, 3, 4), layout="sliced"), tensor((6,), np.int64),
                normal((2, 3))]
NEW_SHAPES = [const((6, 4)), const((-1,)), const((2, -1, 2)), const((24,)), const(((4, 6),))]
BAD_SHAPES = [const((-1, -1)), const((5, 5)), const((-2, 12)), const((2.0, 12)), const(("24",)),
              const((None,)), const((0,)), const((0, -1))]


def _reshape_reference(x, shape):
    a = raw(x)
    shape = shape[0] if len(shape) == 1 and isinstance(shape[0], tuple) else shape
    if any(isinstance(s, bool) or not isinstance(s, int) for s in shape):
        raise TypeError("shape")
    if any(s < -1 for s in shape):
        raise ValueError("shape")
    return np.reshape(a, shape)


@pytest.mark.parametrize("how", ["reshape", "view"])
@FUZZ
@given(data=st.data())
def test_reshape(how, data):
    args, _ = draw_args(data, [Arg("input", SHAPE_INPUTS[:3], NOT_TENSORS[:1]),
                               Arg("shape", NEW_SHAPES, BAD_SHAPES)])
    x, shape = args["input"], args["shape"]
    call = (lambda: getattr(x, how)(*shape)) if isinstance(x, Tensor) else (
        lambda: ops.reshape(x, *shape))
    check("reshape", call, lambda: _reshape_reference(x, shape), {"shape", "reshape", "input"})


AXES = [const(0), const(1), const(-1), const(2)]
BAD_AXES = [const(3), const(-4), const(1.0), const(None), const("1"), const(True)]


def _axis(d, ndim):
    if isinstance(d, bool) or not isinstance(d, int):
        raise TypeError("dim")
    if not -ndim <= d < ndim:
        raise IndexError("dim")
    return d % ndim


@FUZZ
@given(data=st.data())
def test_transpose_and_flatten(data):
    args, bad = draw_args(data, [Arg("input", SHAPE_INPUTS[:3], NOT_TENSORS[:2]),
                                 Arg("dim0", AXES, BAD_AXES), Arg("dim1", AXES, BAD_AXES)])
    x, d0, d1 = args["input"], args["dim0"], args["dim1"]
    a = raw(x)

    def flatten_reference():
        ndim = max(np.ndim(a), 1)
        start, end = _axis(d0, ndim), _axis(d1, ndim)
        if start > end:
            raise ValueError("start after end")
        shape = np.shape(a) or (1,)
        return np.reshape(a, shape[:start] + (-1,) + shape[end + 1:])

    check("transpose", lambda: ops.transpose(x, d0, d1),
          lambda: np.swapaxes(a, _axis(d0, a.ndim), _axis(d1, a.ndim)), bad | {"dim0", "dim1"})
    check("flatten", lambda: ops.flatten(x, d0, d1), flatten_reference,
          {"input", "start_dim", "end_dim"})


PERMUTATIONS = [const((2, 0, 1)), const((0, 1, 2)), const((-1, 0, 1)), const([1, 2, 0])]
BAD_PERMUTATIONS = [const((0, 0, 1)), const((0, 1)), const((0, 1, 3)), const((0, 1, 2, 3)),
                    const((0.0, 1, 2)), const(("0", 1, 2)), const((None, 1, 2)), const((3, 1, 2))]


@FUZZ
@given(data=st.data())
def test_permute(data):
    args, bad = draw_args(data, [Arg("input", SHAPE_INPUTS[:2] + [tensor((4, 3, 2), np.int64)],
                                     NOT_TENSORS[:2] + [tensor((2, 3))]),
                                 Arg("dims", PERMUTATIONS, BAD_PERMUTATIONS)])
    x, dims = args["input"], args["dims"]

    def reference():
        a = raw(x)
        axes = [_axis(d, a.ndim) for d in dims]
        if sorted(axes) != list(range(a.ndim)):
            raise ValueError("not a permutation")
        return np.transpose(a, axes)

    as_method = isinstance(x, Tensor) and data.draw(st.booleans(), label="method")
    check("permute", (lambda: x.permute(*dims)) if as_method else (lambda: ops.permute(x, dims)),
          reference, bad | {"dims", "input"})


INDICES = [const(0), const(-1), const(slice(None, None, 2)), const((0, 1)), const([0, 0]),
           const(np.array([1, 0])), const((slice(None), np.array([2, 0]))), const(Ellipsis),
           const(None), const((Ellipsis, 1))]
BAD_INDICES = [const(5), const((0, 0, 0, 0)), const(1.5), const("a"), const([0.5]),
               const(np.array([True, False, True])), const({"a": 1}), const((0, 9))]


@FUZZ
@given(data=st.data())
def test_getitem(data):
    args, _ = draw_args(data, [Arg("input", SHAPE_INPUTS[:2], []), Arg("index", INDICES, BAD_INDICES)])
    x, index = args["input"], args["index"]
    check("getitem", lambda: x[index], lambda: raw(x)[index], {"index"}, indexing=True)


PIECES = [lambda rng: [Tensor(normal((2, 3))(rng)), Tensor(normal((2, 3))(rng))],
          lambda rng: (Tensor(normal((2, 3))(rng)), normal((2, 3))(rng)),
          lambda rng: [Tensor(normal((2, 3), np.float32)(rng))]]
BAD_PIECES = [const([]), lambda rng: [Tensor(normal((2, 3))(rng)), Tensor(normal((3, 3))(rng))],
              lambda rng: [Tensor(normal((2, 3))(rng)), Tensor(normal((2, 3, 1))(rng))],
              lambda rng: Tensor(normal((2, 3))(rng)), lambda rng: [Tensor(normal((2, 3))(rng)), None],
              lambda rng: [Tensor(normal((2, 3))(rng)), [1.0, 2.0, 3.0]], const(None)]
CAT_DIMS = [const(0), const(1), const(-1)]
BAD_CAT_DIMS = [const(2), const(3), const(-4), const(1.5), const(None), const("0")]


@pytest.mark.parametrize("name", ["cat", "stack"])
@FUZZ
@given(data=st.data())
def test_cat_and_stack(name, data):
    args, _ = draw_args(data, [Arg("tensors", PIECES, BAD_PIECES), Arg("dim", CAT_DIMS, BAD_CAT_DIMS)])
    pieces, dim = args["tensors"], args["dim"]

    def reference():
        if not isinstance(pieces, (list, tuple)) or not all(
                isinstance(p, (Tensor, np.ndarray)) for p in pieces):
            raise TypeError("tensors")
        if isinstance(dim, bool) or not isinstance(dim, int):
            raise TypeError("dim")
        arrays = [raw(p) for p in pieces]
        ndim = arrays[0].ndim + (name == "stack")
        if not -ndim <= dim < ndim:
            raise IndexError("dim")
        return getattr(np, {"cat": "concatenate", "stack": "stack"}[name])(arrays, axis=dim)

    check(name, lambda: getattr(ops, name)(pieces, dim), reference,
          {"tensors", "dim", "shape", "list"})


# -------------------------------------------------------------- products, losses, softmax
@FUZZ
@given(data=st.data())
def test_linear(data):
    args, bad = draw_args(data, [
        Arg("input", [tensor((4, 3)), tensor((2, 4, 3), np.float32), tensor((3,)),
                      normal((4, 3), layout="transposed")],
            [tensor((4, 2)), tensor((4, 3), np.int64), tensor(()), *NOT_TENSORS]),
        Arg("weight", [tensor((2, 3), requires_grad=True), normal((2, 3), np.float32)],
            [tensor((3, 2)), tensor((2, 3, 1)), tensor((3,)), tensor((2, 3), np.bool_),
             *NOT_TENSORS]),
        Arg("bias", [const(None), tensor((2,))], [tensor((3,)), tensor((1, 2)),
                                                  tensor((2,), np.int64), const([0.0, 1.0])])])
    x, w, b = args["input"], args["weight"], args["bias"]

    def reference():
        for v in (x, w) + ((b,) if b is not None else ()):
            _refuse_non_arrays(v)
        if raw(w).ndim != 2 or raw(x).ndim == 0 or raw(w).dtype.kind != "f" or \
                raw(x).dtype.kind != "f" or (b is not None and (
                    raw(b).shape != (raw(w).shape[0],) or raw(b).dtype.kind != "f")):
            raise ValueError("bad")
        out = raw(x) @ raw(w).T
        return out + raw(b) if b is not None else out

    check("linear", lambda: F.linear(x, w, b), reference,
          (bad | ({"bias"} if b is not None else set())) or {"input", "weight", "bias"})


@FUZZ
@given(data=st.data())
def test_cross_entropy_and_log_softmax(data):
    args, bad = draw_args(data, [
        Arg("logits", [tensor((4, 3)), tensor((4, 3), np.float32, "transposed")],
            [tensor((4,)), tensor((4, 3, 2)), tensor((4, 3), np.int64), tensor((0, 3)),
             *NOT_TENSORS]),
        Arg("targets", [const(np.array([0, 2, 1, 2])), lambda rng: Tensor(np.array([1, 1, 0, 2]))],
            [const(np.array([0, 3, 1, 2])), const(np.array([0, -1, 1, 2])),
             const(np.array([0.0, 1.0, 1.0, 2.0])), const(np.array([0, 1])),
             const(np.array([True, False, True, True])), const(None), const("0")]),
        Arg("dim", [const(1), const(-1), const(0)], [const(2), const(1.0), const(None),
                                                     const(True)])])
    z, t, dim = args["logits"], args["targets"], args["dim"]

    def log_softmax(a, axis):
        if a.shape[axis] == 0:
            return a          # PyTorch: an empty result
        shifted = a - a.max(axis=axis, keepdims=True)
        return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))

    def cross_entropy_reference():
        a, labels = raw(_refuse_non_arrays(z)), np.asarray(raw(t))
        if a.ndim != 2 or a.dtype.kind != "f" or labels.dtype.kind not in "iu" or \
                labels.shape != a.shape[:1] or labels.min() < 0 or labels.max() >= a.shape[1] \
                or a.shape[0] == 0:
            raise ValueError("bad")
        return -log_softmax(a, 1)[np.arange(len(labels)), labels].mean()

    def log_softmax_reference():
        a = raw(_refuse_non_arrays(z))
        return log_softmax(a, _axis(dim, a.ndim))

    check("cross_entropy", lambda: F.cross_entropy(z, t), cross_entropy_reference,
          (bad - {"dim"}) or {"logits", "targets"})
    named = {"logits": "input", "dim": "dim"}          # log_softmax calls its logits "input"
    check("log_softmax", lambda: F.log_softmax(z, dim), log_softmax_reference,
          {named[b] for b in bad if b in named} | {"dim"})


# ------------------------------------------------- the layers' ops: conv, pooling, batch norm
def to_torch64(value):
    """For PyTorch references: arrays and Tensors as float64 torch tensors (minisnip promotes
    mixed float32/float64 as NumPy does; PyTorch's layers want one dtype), other values as
    they are. Integer arrays stay integers (minisnip refuses them; PyTorch may not)."""
    converted = to_torch(value)
    if isinstance(converted, torch.Tensor) and converted.is_floating_point():
        return converted.double()
    if isinstance(converted, (tuple, list)):
        return type(converted)(to_torch64(v) for v in converted)
    return converted


def _equal_pair(value):
    """For the NumPy references of the convolution: an int, or a pair of equal ints."""
    if isinstance(value, (list, tuple)) and len(value) == 2 and value[0] == value[1]:
        value = value[0]
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError("not an int")
    return int(value)


def _floats(*values):
    for v in values:
        if v is not None and (not isinstance(v, (Tensor, np.ndarray)) or
                              raw(v).dtype not in (np.float32, np.float64)):
            raise TypeError("not a float array")


SIZE_ARGS = [const(1), const(2), const((1, 1)), const([2, 2]), const(np.int64(1))]
BAD_SIZE_ARGS = [const(0), const(-1), const(1.5), const(None), const("1"), const((1,)),
                 const((1, 2, 3)), const(NAN), const(True), const((2, 1))]
PADDINGS = [const(0), const(1), const((1, 1)), const((0, 0))]
BAD_PADDINGS = [const(-1), const(1.5), const(None), const("same"), const("valid"),
                const((0, 1)), const((1, 2, 3)), const(NAN)]
IMAGES = [tensor((2, 3, 5, 5)), tensor((2, 3, 6, 5), np.float32, "transposed"),
          normal((1, 3, 4, 7), layout="sliced")]
BAD_IMAGES = [tensor((3, 5, 5)), tensor((2, 4, 5, 5)), tensor((2, 3, 5, 5), np.int64),
              tensor((2, 3, 1, 1)), tensor((2, 3, 5, 0)), normal((2, 3, 5, 5), np.float16),
              *NOT_TENSORS]


@FUZZ
@given(data=st.data())
def test_conv2d(data):
    args, bad = draw_args(data, [
        Arg("input", IMAGES, BAD_IMAGES),
        Arg("weight", [tensor((4, 3, 3, 3)), tensor((2, 3, 2, 3), np.float32)],
            [tensor((4, 3, 3)), tensor((4, 2, 3, 3)), tensor((4, 3, 3, 3), np.int64),
             tensor((4, 3, 9, 9)), *NOT_TENSORS[:2]]),
        Arg("bias", [const(None), const("matching")],
            [tensor((5,)), tensor((4,), np.int64), const([0.0, 0.0, 0.0, 0.0])]),
        Arg("stride", SIZE_ARGS, BAD_SIZE_ARGS), Arg("padding", PADDINGS, BAD_PADDINGS)])
    x, w, b, stride, padding = (args[k] for k in ("input", "weight", "bias", "stride", "padding"))
    if isinstance(b, str):
        b = Tensor(np.ones(raw(w).shape[0])) if isinstance(w, (Tensor, np.ndarray)) else None

    def reference():
        _floats(x, w, b)
        if torch is not None:
            return torch.nn.functional.conv2d(to_torch64(x), to_torch64(w), to_torch64(b),
                                              stride, padding)
        out = oracle.conv2d_forward(raw(x), raw(w), _equal_pair(stride), _equal_pair(padding))[0]
        return out + raw(b)[None, :, None, None] if b is not None else out

    check("conv2d", lambda: F.conv2d(x, w, b, stride, padding), reference,
          bad | {"input", "weight", "kernel"})


POOL_OPTIONS = {"max_pool2d": {"dilation": ([1, (1, 1)], [2, (1, 2), 0]),
                               "ceil_mode": ([False], [True, None, "no"]),
                               "return_indices": ([False], [True])},
                "avg_pool2d": {"ceil_mode": ([False], [True]),
                               "count_include_pad": ([True], [False, None]),
                               "divisor_override": ([None], [3, 0])}}


def _pool_reference(name, x, kernel_size, stride, padding, options):
    _floats(x)
    if torch is not None:
        return getattr(torch.nn.functional, name)(to_torch64(x), kernel_size, stride, padding,
                                                  **options)
    defaults = {"dilation": 1, "ceil_mode": False, "return_indices": False,
                "count_include_pad": True, "divisor_override": None}
    for option, value in options.items():
        value = value[0] if option == "dilation" and isinstance(value, (list, tuple)) and \
            len(set(value)) == 1 else value
        if value is not defaults[option] and (type(value) is not type(defaults[option])
                                              or value != defaults[option]):
            raise ValueError(f"{option} is not implemented")

    def pair(v):
        v = tuple(v) if isinstance(v, (tuple, list)) else (v, v)
        return v * 2 if len(v) == 1 else v

    kernel = pair(kernel_size)
    stride = kernel if stride is None or stride in ([], ()) else pair(stride)
    out = getattr(oracle, f"{name}_forward")(raw(x), kernel, stride, pair(padding))
    return out[0] if name == "max_pool2d" else out


@pytest.mark.parametrize("name", ["max_pool2d", "avg_pool2d"])
@FUZZ
@given(data=st.data())
def test_pooling(name, data):
    options = [Arg(option, [const(v) for v in good], [const(v) for v in bad])
               for option, (good, bad) in POOL_OPTIONS[name].items()]
    args, bad = draw_args(data, [
        Arg("input", IMAGES, BAD_IMAGES),
        Arg("kernel_size", [const(2), const((2, 3)), const([3]), const((3, 1))],
            BAD_SIZE_ARGS[:-1] + [const(9)]),
        Arg("stride", [const(None), const(1), const((2, 1)), const([])],
            [const(0), const(-2), const(2.0), const("1"), const((1, 2, 3))]),
        Arg("padding", PADDINGS + [const((1, 0))], BAD_PADDINGS[:3] + [const(2), const((0, 3))]),
        *options])
    x, kernel, stride, padding = (args.pop(k) for k in ("input", "kernel_size", "stride",
                                                         "padding"))
    check(name, lambda: getattr(F, name)(x, kernel, stride, padding, **args),
          lambda: _pool_reference(name, x, kernel, stride, padding, args),
          bad | {"input", "window", "padding"})


@FUZZ
@given(data=st.data())
def test_batch_norm(data):
    channels = lambda dtype=np.float64: [normal((3,), dtype), tensor((3,), dtype)]  # noqa: E731
    wrong = [normal((4,)), normal((3,), np.int64), const([0.0, 0.0, 0.0]), tensor((3, 1))]
    args, bad = draw_args(data, [
        Arg("input", [tensor((4, 3, 2, 2)), tensor((2, 3, 3, 2), np.float32, "transposed")],
            [tensor((4, 3)), tensor((4, 2, 2, 2)), tensor((1, 3, 1, 1)), tensor((4, 3, 2, 2),
                                                                              np.int64),
             *NOT_TENSORS]),
        Arg("running_mean", channels(), wrong + [const(None)]),
        Arg("running_var", [lambda rng: np.abs(normal((3,))(rng)) + 0.5], wrong + [const(None)]),
        Arg("weight", channels() + [const(None)], wrong),
        Arg("bias", channels() + [const(None)], wrong),
        Arg("training", [const(True), const(False)], [const(None), const(1), const("yes")]),
        Arg("momentum", [const(0.1), const(0.0), const(1.0)],
            [const(-0.5), const(1.5), *NOT_REALS]),
        Arg("eps", [const(1e-5), const(1e-3)], [const(-1e-5), *NOT_REALS])])
    before = {k: raw(args[k]).copy() if isinstance(args[k], (Tensor, np.ndarray)) else args[k]
              for k in ("running_mean", "running_var")}

    def call():
        y = F.batch_norm(*args.values())
        return y, raw(args["running_mean"]), raw(args["running_var"])

    def reference():
        _floats(*(args[k] for k in ("input", "running_mean", "running_var", "weight", "bias")))
        if torch is None:
            return None
        stats = {k: to_torch64(v) for k, v in before.items()}
        values = dict(args, **stats)
        y = torch.nn.functional.batch_norm(*(to_torch64(values[k]) for k in args))
        return y, stats["running_mean"], stats["running_var"]

    if torch is None:    # no reference here: a clean error or a finite result
        result = check("batch_norm", call, None, bad | {"input", "training", "channel"})
        assert result is None or np.isfinite(raw(result[0])).all()
        return
    check("batch_norm", call, reference, bad | {"input", "training", "channel"})


# ----------------------------------------------------------------------------- the layers
BAD_SIZES = [const(0), const(-2), const(2.5), const(NAN), const(None), const("3"), const(True)]
BAD_FLAGS = [const(None), const("yes"), const(2)]
SEQUENCES = [tensor((5, 2, 3)), tensor((2, 5, 3), np.float32, "transposed"),
             normal((4, 1, 3), layout="sliced")]
BAD_SEQUENCES = [tensor((5, 3)), tensor((5, 2, 4)), tensor((5, 2, 3, 1)),
                 tensor((5, 2, 3), np.int64), tensor((0, 2, 3)), *NOT_TENSORS]
RECURRENT = [Arg("input_size", [const(3)], BAD_SIZES), Arg("hidden_size", [const(4), const(1)],
                                                           BAD_SIZES),
             Arg("num_layers", [const(1)], [const(2), const(0), const(1.0)]),
             Arg("bias", [const(True)], [const(False), const(None)]),
             Arg("batch_first", [const(False), const(True)], BAD_FLAGS),
             Arg("dropout", [const(0.0), const(0)], [const(0.5), const(NAN)]),
             Arg("bidirectional", [const(False)], [const(True)])]

LAYERS = {
    "Linear": ([Arg("in_features", [const(3)], BAD_SIZES),
                Arg("out_features", [const(2), const(1)], BAD_SIZES),
                Arg("bias", [const(True), const(False)], BAD_FLAGS)],
               [tensor((4, 3)), tensor((2, 5, 3), np.float32), tensor((3,))],
               [tensor((4, 2)), tensor((4, 3), np.int64), tensor(()), *NOT_TENSORS], ("linear",)),
    "Conv2d": ([Arg("in_channels", [const(3)], BAD_SIZES),
                Arg("out_channels", [const(2)], BAD_SIZES),
                Arg("kernel_size", [const(3), const((2, 3))], BAD_SIZE_ARGS),
                Arg("stride", SIZE_ARGS, BAD_SIZE_ARGS), Arg("padding", PADDINGS, BAD_PADDINGS),
                Arg("bias", [const(True), const(False)], BAD_FLAGS)],
               IMAGES, BAD_IMAGES, ("conv2d",)),
    "MaxPool2d": ([Arg("kernel_size", [const(2), const((2, 3))], BAD_SIZE_ARGS),
                   Arg("stride", [const(None), const(1), const((1, 2))], BAD_SIZE_ARGS[:-1]),
                   Arg("padding", PADDINGS, BAD_PADDINGS),
                   Arg("ceil_mode", [const(False)], [const(True)])],
                  IMAGES, BAD_IMAGES, ("max_pool2d", "maxpool2d")),
    "AvgPool2d": ([Arg("kernel_size", [const(2), const((3, 2))], BAD_SIZE_ARGS),
                   Arg("stride", [const(None), const(2), const((2, 1))], BAD_SIZE_ARGS[:-1]),
                   Arg("padding", PADDINGS, BAD_PADDINGS),
                   Arg("count_include_pad", [const(True)], [const(False)])],
                  IMAGES, BAD_IMAGES, ("avg_pool2d", "avgpool2d")),
    "BatchNorm2d": ([Arg("num_features", [const(3)], BAD_SIZES),
                     Arg("eps", [const(1e-5), const(0.1)], [const(-1e-5), *NOT_REALS]),
                     Arg("momentum", [const(0.1), const(None), const(1.0)],
                         [const(-0.1), const(1.5), *NOT_REALS[:2], const("0.1")])],
                    IMAGES[:2], [tensor((1, 3, 1, 1)), *BAD_IMAGES[:4]], ("batch_norm",)),
    "LSTM": (RECURRENT + [Arg("proj_size", [const(0)], [const(2)])], SEQUENCES, BAD_SEQUENCES,
             ("lstm",)),
    "GRU": (RECURRENT, SEQUENCES, BAD_SEQUENCES, ("gru",)),
}
WITH_PARAMETERS = {"Linear", "Conv2d", "BatchNorm2d", "LSTM", "GRU"}


def _state(name, sequence, batch_first, rng, how):
    """An initial state for a recurrent layer: "none", "fits", or a bad one."""
    b = (raw(sequence).shape[0 if batch_first else 1]
         if isinstance(sequence, (Tensor, np.ndarray)) and raw(sequence).ndim == 3 else 2)
    h = lambda shape: Tensor(rng.standard_normal(shape))  # noqa: E731
    states = {"none": None, "fits": (h((1, b, 4)), h((1, b, 4))) if name == "LSTM" else h((1, b, 4)),
              "no layer axis": (h((b, 4)), h((b, 4))) if name == "LSTM" else h((b, 4)),
              "one for two": h((1, b, 4)), "a list": [[0.0] * 4], "int": Tensor(np.zeros((1, b, 4),
                                                                                      np.int64))}
    return states[how]


@pytest.mark.parametrize("name", sorted(LAYERS))
@FUZZ
@given(data=st.data())
def test_layers(name, data):
    """Construct the layer from drawn arguments, give it random weights, call it on a drawn
    input (and for the recurrent ones a drawn initial state): a clean error, or what the
    PyTorch layer of the same arguments and weights computes."""
    arguments, inputs, bad_inputs, functions = LAYERS[name]
    args, bad = draw_args(data, arguments + [Arg("input", inputs, bad_inputs)])
    x = args.pop("input")
    rng = np.random.default_rng(data.draw(st.integers(0, 100), label="weights"))
    state = None
    if name in ("LSTM", "GRU"):
        how = data.draw(st.sampled_from(["none", "fits", "fits", "no layer axis", "one for two",
                                         "a list", "int"]), label="hx")
        state = _state(name, x, args.get("batch_first") is True, rng, how)
        if how not in ("none", "fits"):
            bad.add("hx")
    layers = []

    def call():
        extra = {"dtype": np.float64} if name in WITH_PARAMETERS else {}
        layer = getattr(nn, name)(**args, **extra)
        layers.append(layer)
        for p in layer.parameters():
            p.data[...] = rng.standard_normal(p.shape) * 0.5
        out = layer(x) if state is None else layer(x, state)
        return (out, layer.running_mean.data, layer.running_var.data) if name == "BatchNorm2d" \
            else out

    def reference():
        _floats(x)
        theirs = getattr(torch.nn, name)(**args).double()
        with torch.no_grad():
            for p_name, p in theirs.named_parameters():
                p.copy_(torch.from_numpy(getattr(layers[0], p_name).data))
        out = theirs(to_torch64(x)) if state is None else theirs(to_torch64(x), to_torch64(state))
        return (out, theirs.running_mean, theirs.running_var) if name == "BatchNorm2d" else out

    at_fault = bad | {"input", "h_0", "c_0", "hx", "window", "kernel"} | (
        {"padding"} if "padding" in args else set())
    check((name,) + functions, call, reference if torch is not None else None, at_fault)


# ---------------------------------------------------------- the Tensor itself: make, backward
DATA = [const([[1.0, 2.0], [3.0, 4.5]]), const(2.5), const([1, 2, 3]), normal((2, 3), np.float32),
        normal((3, 2), layout="transposed"), normal((2,), np.int64), const([True, False]),
        lambda rng: Tensor(normal((2, 2))(rng))]
BAD_DATA = [const([[1.0, 2.0], [3.0]]), const("abc"), const(None), const({"a": 1}),
            const([1.0, "x"]), const([[1.0], [None]]), const(np.array(["a", "b"])),
            const(np.array([1 + 2j])), const(object())]


@pytest.mark.parametrize("make", ["Tensor", "tensor"])
@FUZZ
@given(data=st.data())
def test_making_a_tensor(make, data):
    args, bad = draw_args(data, [Arg("data", DATA, BAD_DATA),
                                 Arg("requires_grad", [const(False), const(True)],
                                     [const(None), const("yes"), const(1)]),
                                 Arg("dtype", [const(None), const(np.float64), const(np.float32),
                                               const("float64")],
                                     [const("float99"), const(str), const(object), const(3)])])
    values, requires_grad, dtype = args["data"], args["requires_grad"], args["dtype"]

    def reference():
        array = np.asarray(raw(values), dtype=dtype)
        if array.dtype.kind not in "biuf" or not isinstance(requires_grad, bool) or (
                requires_grad and array.dtype.kind != "f" and dtype is not None):
            raise TypeError("not numbers")
        return array

    made = check(make, lambda: getattr(minisnip, make)(values, requires_grad=requires_grad,
                                                       dtype=dtype),
                 reference, bad | {"data", "dtype", "requires_grad", "gradients"})
    assert made is None or made.dtype.kind in "biuf"


@FUZZ
@given(data=st.data())
def test_backward_arguments(data):
    """``backward(gradient, retain_graph)`` of a vector or a scalar result."""
    args, bad = draw_args(data, [
        Arg("output", [const("vector"), const("scalar")], []),
        Arg("gradient", [const("fits")],
            [const(None), const("abc"), const([1.0, 2.0]), lambda rng: np.ones((2, 2)),
             lambda rng: np.ones(3, np.int64), const([[1.0, 2.0, 3.0]])]),
        Arg("retain_graph", [const(False), const(True)], [const(None), const("no")])])
    x = Tensor(np.arange(3.0), requires_grad=True)
    y = x * 2.0 if args["output"] == "vector" else (x * 2.0).sum()
    gradient = np.ones(y.shape) if isinstance(args["gradient"], str) and args["gradient"] == "fits" \
        else args["gradient"]

    def reference():
        if isinstance(gradient, (str, list)) or not isinstance(args["retain_graph"], bool) or (
                gradient is None and y.ndim) or (gradient is not None and (
                np.shape(gradient) != y.shape or np.asarray(gradient).dtype.kind not in "iuf")):
            raise TypeError("bad")
        return 2.0 * np.ones(3) * (np.asarray(gradient) if gradient is not None else 1.0)

    def call():
        y.backward(gradient, retain_graph=args["retain_graph"])
        return x.grad

    check("backward", call, reference, bad | {"gradient", "retain_graph", "scalar"})


# ------------------------------------------------------------------- what the fuzz found
# Each case below failed before its fix: a silent wrong result (the value), or an error from
# inside NumPy or Numba (now a clean refusal from minisnip's own checks, naming the argument).
def _x(*shape, dtype=np.float64):
    return Tensor(np.arange(int(np.prod(shape)), dtype=dtype).reshape(shape) % 5)


def _layer_refusing_a_batch_keeps_its_count():
    layer = nn.BatchNorm2d(3)
    with pytest.raises(ValueError, match=r"BatchNorm2d\(3\): expected input \(N, 3, H, W\)"):
        layer(_x(2, 4, 2, 2))
    return layer.num_batches_tracked.data


FOUND = {
    # silent wrong results
    "int tensor + 2.5 truncated the scalar": (lambda: _x(2, dtype=np.int64) + 2.5, [2.5, 3.5]),
    "bool tensor + 2 made the scalar a bool": (
        lambda: Tensor(np.array([True, False])) + 2, [3, 2]),
    "sigmoid of ints truncated to ints": (
        lambda: ops.sigmoid(_x(3, dtype=np.int64)), TypeError, r"sigmoid: input must be float"),
    "cat wrapped an out-of-range dim": (
        lambda: ops.cat([_x(2, 3), _x(2, 3)], dim=2), ValueError,
        r"cat: dim 2 is out of range for a tensor with 2 dimensions"),
    "stack wrapped an out-of-range dim": (
        lambda: ops.stack([_x(2, 3), _x(2, 3)], dim=-4), ValueError, r"stack: dim -4 is out"),
    "flatten wrapped an out-of-range start_dim": (
        lambda: _x(2, 3, 4).flatten(5), ValueError, r"flatten: start_dim 5 is out of range"),
    "permute wrapped an out-of-range dim": (
        lambda: _x(2, 3, 4).permute(3, 1, 2), ValueError, r"permute: dims 3 is out of range"),
    "cat of one tensor concatenated its rows": (
        lambda: ops.cat(_x(2, 3)), TypeError, r"cat: tensors must be a list or tuple"),
    "conv2d truncated stride 1.5 to 1": (
        lambda: F.conv2d(_x(1, 1, 5, 5), _x(1, 1, 3, 3), stride=1.5), TypeError,
        r"conv2d: stride must be an int or a pair of ints"),
    "add took a list as NumPy does": (
        lambda: _x(3) + [1.0, 2.0, 3.0], TypeError,
        r"add: the second operand must be a Tensor, a NumPy array or a number, got list"),
    "exp took a Python number": (lambda: ops.exp(2.0), TypeError, r"exp: input must be a Tensor"),
    "sum over dim=() reduced nothing (PyTorch: everything)": (
        lambda: _x(2, 3).sum(()), ValueError, r"sum: dim=\(\) is ambiguous"),
    "batch_norm with momentum NaN made the running statistics NaN": (
        lambda: F.batch_norm(_x(2, 3, 2, 2), np.zeros(3), np.ones(3), _x(3), _x(3), True,
                             momentum=NAN), ValueError, r"batch_norm: momentum must be finite"),
    "a refused batch was counted by BatchNorm2d": (_layer_refusing_a_batch_keeps_its_count, 0),
    "Tensor('abc') made a tensor of strings": (
        lambda: Tensor("abc"), TypeError, r"Tensor: data must be numbers"),
    # errors from inside NumPy or Numba
    "add(x, None)": (lambda: ops.add(_x(3), None), TypeError, r"add: the second operand"),
    "bool - bool": (lambda: Tensor(np.array([True])) - Tensor(np.array([False])), TypeError,
                    r"sub: subtracting two bool operands is not supported"),
    "-bool": (lambda: -Tensor(np.array([True])), TypeError, r"neg: input is a bool tensor"),
    "int ** -1": (lambda: _x(3, dtype=np.int64) ** -1, ValueError,
                  r"pow: an integer input \(int64\) to a negative integer exponent"),
    "x ** '2'": (lambda: _x(3) ** "2", TypeError, r"pow: the exponent must be a number"),
    "matmul with a number": (lambda: ops.matmul(_x(2, 2), 2.0), TypeError,
                             r"matmul: the second operand must be a Tensor"),
    "matmul of bool arrays": (
        lambda: ops.matmul(np.ones((2, 2), bool), np.ones((2, 2), bool)), TypeError,
        r"matmul: the first operand has dtype bool"),
    "linear without a weight": (lambda: F.linear(_x(2, 3), None), TypeError,
                                r"linear: weight must be a Tensor"),
    "log_softmax of bools": (lambda: F.log_softmax(Tensor(np.array([[True, False]]))),
                             TypeError, r"log_softmax: input must be float32 or float64"),
    "log_softmax over an empty dim": (
        lambda: F.log_softmax(Tensor(np.zeros((0, 3))), dim=0), np.zeros((0, 3))),
    "max over an empty dim": (lambda: ops.max(Tensor(np.zeros((3, 0))), 1), ValueError,
                              r"max: cannot reduce a tensor of shape \(3, 0\) over dim 1"),
    "reshape(-1, -1)": (lambda: _x(2, 3).reshape(-1, -1), ValueError,
                        r"reshape: shape \(-1, -1\) has more than one -1"),
    "reshape(2.0, 3)": (lambda: _x(2, 3).reshape(2.0, 3), TypeError,
                        r"reshape: shape must be ints"),
    "getitem of None": (lambda: ops.getitem(None, 0), TypeError, r"getitem: input must be"),
    "cat([x, None])": (lambda: ops.cat([_x(2), None]), TypeError,
                       r"cat: tensors\[1\] must be a Tensor"),
    "conv2d with a list weight": (
        lambda: F.conv2d(_x(1, 1, 3, 3), [[[[1.0]]]]), TypeError, r"conv2d: weight must be"),
    "conv2d padding None": (lambda: F.conv2d(_x(1, 1, 3, 3), _x(1, 1, 1, 1), padding=None),
                            TypeError, r"conv2d: padding must be an int or a pair"),
    "conv2d padding 'same'": (lambda: F.conv2d(_x(1, 1, 3, 3), _x(1, 1, 1, 1), padding="same"),
                              ValueError, r"conv2d: padding='same' is not implemented"),
    "batch_norm with list statistics": (
        lambda: F.batch_norm(_x(2, 3, 2, 2), [0.0] * 3, [1.0] * 3, _x(3), _x(3), True),
        TypeError, r"batch_norm: running_mean must be a Tensor \(or a NumPy array\)"),
    "Linear(2.5, 3)": (lambda: nn.Linear(2.5, 3), TypeError,
                       r"Linear: in_features must be an int, got float 2.5"),
    "Linear(3, 2)(None)": (lambda: nn.Linear(3, 2)(None), TypeError,
                           r"Linear\(3, 2\): input must be a Tensor"),
    "BatchNorm2d(2.5)": (lambda: nn.BatchNorm2d(2.5), TypeError,
                         r"BatchNorm2d: num_features must be an int"),
    "BatchNorm2d(-1)": (lambda: nn.BatchNorm2d(-1), ValueError,
                        r"BatchNorm2d: num_features must be >= 1, got -1"),
    "Conv2d(None, 2, 3)": (lambda: nn.Conv2d(None, 2, 3), TypeError,
                           r"Conv2d: in_channels must be an int, got None"),
    "GRU(3, 4)(None)": (lambda: nn.GRU(3, 4)(None), TypeError, r"GRU: input must be a Tensor"),
    "a ragged list as a Tensor": (lambda: Tensor([[1.0], [1.0, 2.0]]), TypeError,
                                  r"Tensor: data must be numbers"),
    "backward(gradient='abc')": (
        lambda: (_x(3).double().requires_grad_() * 2).backward("abc"), TypeError,
        r"backward: gradient must be a Tensor or an array of shape \(3,\)"),
}


@pytest.mark.parametrize("name", sorted(FOUND))
def test_what_the_fuzz_found(name):
    call, *expected = FOUND[name]
    if len(expected) == 1:
        with np.errstate(all="ignore"):
            np.testing.assert_allclose(raw(call()), expected[0])
        return
    error, match = expected
    with pytest.raises(error, match=match) as info:
        call()
    filename, line = _last_frame(info.value)
    assert filename.startswith(PACKAGE) and \
        linecache.getline(filename, line).strip().startswith("raise"), (filename, line)
