"""Every differentiable op passes a float64 finite-difference check (DESIGN principle 4)."""
import importlib
import pkgutil

import numpy as np
import pytest

import minisnip
from minisnip.autograd import Function
from minisnip.gradcheck import GradcheckError, check_op, gradcheck

from .cases import load_all_cases

CASES = load_all_cases()
ALL = [(fn_cls, factory) for fn_cls, factories in CASES.items() for factory in factories]


def library_functions():
    """Every Function subclass defined in the library (not in the tests)."""
    for package in ("minisnip.ops",):
        pkg = importlib.import_module(package)
        for info in pkgutil.walk_packages(pkg.__path__, package + "."):
            importlib.import_module(info.name)
    found, stack = set(), [Function]
    while stack:
        cls = stack.pop()
        for sub in cls.__subclasses__():
            stack.append(sub)
            if sub.__module__.startswith("minisnip."):
                found.add(sub)
    return found


@pytest.mark.parametrize("fn_cls,factory", ALL,
                         ids=[f"{c.__name__}-{f.__name__}" for c, f in ALL])
def test_op_gradient(fn_cls, factory):
    fn, inputs = factory(np.random.default_rng(0))
    assert gradcheck(fn, inputs)


def test_the_product_cases_reach_every_matmul_kernel(monkeypatch):
    """The gradient checks of the ops that multiply matrices do not all run on the rank-1
    tiles: between them, forward and backward reach every matmul kernel."""
    from minisnip.ops import Conv2d, Linear, MatMul

    from .kernel_cases import record_product_paths
    paths = record_product_paths(monkeypatch)
    for fn_cls in (MatMul, Linear, Conv2d):
        for factory in CASES[fn_cls]:
            fn, inputs = factory(np.random.default_rng(0))
            tensors = [minisnip.Tensor(x, requires_grad=True) for x in inputs]
            out = fn(*tensors)
            out.backward(np.ones(out.shape))
    assert paths == {"tiles", "tiles C^T", "dot_tiles", "long_k"}, sorted(paths)


@pytest.mark.parametrize("fn_cls,factory", ALL,
                         ids=[f"{c.__name__}-{f.__name__}" for c, f in ALL])
def test_op_keeps_float32_in_its_backward(fn_cls, factory):
    """Every case again in float32: the engine raises if an op's backward returns another
    dtype than its inputs' and output's (a float64 leak it used to cast away silently)."""
    fn, inputs = factory(np.random.default_rng(0))
    tensors = [minisnip.Tensor(x.astype(np.float32), requires_grad=True) for x in inputs]
    out = fn(*tensors)
    out.backward(np.ones(out.shape, out.dtype))
    for t in tensors:
        assert t.grad is None or t.grad.dtype == np.float32


def test_every_op_has_a_gradcheck_case():
    missing = sorted(f"{c.__module__}.{c.__name__}" for c in library_functions() if c not in CASES)
    assert not missing, f"ops without a gradcheck case in tests/cases/: {missing}"


class _WrongMul(Function):
    """A planted bug: the gradient of a*b with respect to a is off by a factor 1.01."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a * b

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved
        return grad * b * 1.01, grad * a


class _ForgotBroadcast(Function):
    """A planted bug: the bias gradient is not summed over the batch, only the first row used."""

    @staticmethod
    def forward(ctx, x, b):
        return x + b

    @staticmethod
    def backward(ctx, grad):
        return grad, grad[0]


def test_checker_catches_a_wrong_backward_full_jacobian(rng):
    with pytest.raises(GradcheckError, match="input 0"):
        gradcheck(lambda a, b: _WrongMul.apply(a, b), [rng.standard_normal((2, 3)),
                                                       rng.standard_normal((2, 3))])


def test_checker_catches_a_wrong_backward_random_directions(rng):
    with pytest.raises(GradcheckError, match="random direction"):
        gradcheck(lambda a, b: _WrongMul.apply(a, b), [rng.standard_normal((20, 10)),
                                                       rng.standard_normal((20, 10))], max_full=8)


def test_checker_catches_a_missing_unbroadcast(rng):
    with pytest.raises(GradcheckError, match="input 1"):
        gradcheck(lambda x, b: _ForgotBroadcast.apply(x, b), [rng.standard_normal((3, 2)),
                                                              rng.standard_normal((2,))])


def test_checker_refuses_float32(rng):
    with pytest.raises(TypeError, match="float64"):
        gradcheck(lambda a: a * a, [rng.standard_normal(3).astype(np.float32)])


def test_checker_passes_a_correct_composite(rng):
    from minisnip import functional as F
    x = rng.standard_normal((4, 3))
    w1, w2 = rng.standard_normal((5, 3)), rng.standard_normal((2, 5))
    fn = lambda x, w1, w2: F.cross_entropy(F.linear(F.linear(x, w1).tanh(), w2), np.array([0, 1, 1, 0]))
    assert gradcheck(fn, [x, w1, w2])


def test_error_message_names_input_entry_and_both_values(rng):
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda a, b: _WrongMul.apply(a, b), [rng.standard_normal((2, 3)),
                                                       rng.standard_normal((2, 3))])
    message = str(info.value)
    assert "input 0" in message and "worst entry" in message
    assert "analytic" in message and "numeric" in message


class _Float32Square(Function):
    """A planted precision bug: the forward computes in float32 whatever the input."""

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return (a * a).astype(np.float32)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved
        return (2 * a * grad,)


def test_checker_refuses_an_op_that_drops_to_float32(rng):
    with pytest.raises(GradcheckError, match="float32"):
        gradcheck(lambda a: _Float32Square.apply(a), [rng.standard_normal(3)])


def test_check_op_draws_inputs_and_checks(rng):
    assert check_op(lambda a, b: (a * b).tanh(), (3, 4), (4,))
    assert check_op(lambda a: a.relu() * a, (40, 3), max_full=8)  # random directions
    with pytest.raises(GradcheckError):
        check_op(lambda a, b: _WrongMul.apply(a, b), (3,), (3,))
