"""Finite-difference gradient checks, in float64 (DESIGN principle 4).

``gradcheck(fn, inputs)`` compares the gradients that ``backward`` computes with central
finite differences  (f(x + eps e) - f(x - eps e)) / (2 eps):

* small inputs (an input of at most ``max_full`` entries): the full Jacobian, entry by entry;
* large inputs: ``n_directions`` random directions u per input, comparing the directional
  derivative from finite differences, v . (f(x + eps u) - f(x - eps u)) / (2 eps), with the
  one from the backward pass, (J^T v) . u  (a JVP against the VJP).

The output is reduced to a scalar with a fixed random weighting v, so one backward pass gives
J^T v for every input at once; v^T J u is then compared for every u.

``check_op(fn, *shapes)`` draws float64 inputs of the given shapes and runs ``gradcheck``:
the quickest way to check a new op from a notebook.
"""
from __future__ import annotations

import numpy as np

from .tensor import Tensor


class GradcheckError(AssertionError):
    """The analytic and numerical gradients disagree (the message says where and by how much)."""


def _evaluate(fn, arrays) -> np.ndarray:
    out = fn(*[Tensor(a) for a in arrays])
    return out.data if isinstance(out, Tensor) else np.asarray(out)


def _check_inputs(arrays, eps):
    if not arrays:
        raise ValueError("gradcheck: no inputs given")
    for i, a in enumerate(arrays):
        if a.dtype != np.float64:
            raise TypeError(f"gradcheck: input {i} has dtype {a.dtype}; finite differences need "
                            f"float64 inputs (float32 rounding swamps eps = {eps}). Pass "
                            f"x.astype(np.float64).")


def _analytic_gradients(fn, arrays, rng):
    """One backward pass with a random output weighting v: returns v and J_i^T v per input."""
    tensors = [Tensor(a, requires_grad=True) for a in arrays]
    out = fn(*tensors)
    if not isinstance(out, Tensor) or not out.requires_grad:
        raise GradcheckError("gradcheck: fn did not return a Tensor that depends on the inputs")
    if out.dtype != np.float64:
        raise GradcheckError(f"gradcheck: fn returned dtype {out.dtype} for float64 inputs; "
                             f"an op lost precision (a float32 constant?)")
    v = rng.standard_normal(out.shape)
    out.backward(v)
    grads = [t.grad if t.grad is not None else np.zeros(a.shape) for t, a in zip(tensors, arrays)]
    return v, grads


def _full_jacobian_check(loss_at, x0, analytic, i, eps, atol, rtol):
    """Perturb every entry of input ``i``; raise naming the worst entry."""
    numeric = np.zeros(x0.size)
    flat = x0.reshape(-1)
    for j in range(x0.size):
        plus, minus = flat.copy(), flat.copy()
        plus[j] += eps
        minus[j] -= eps
        numeric[j] = (loss_at(plus.reshape(x0.shape)) - loss_at(minus.reshape(x0.shape))) / (2 * eps)
    numeric = numeric.reshape(x0.shape)
    error = np.abs(analytic - numeric)
    bound = atol + rtol * np.abs(numeric)
    if (error > bound).any():
        j = np.unravel_index(np.argmax(error - bound), x0.shape)
        raise GradcheckError(
            f"gradcheck: input {i} (shape {x0.shape}), worst entry {tuple(int(k) for k in j)}: "
            f"backward (analytic) gives {analytic[j]:.8g}, finite differences (numeric) "
            f"{numeric[j]:.8g} (|difference| {error[j]:.3g} > allowed {bound[j]:.3g}; "
            f"{int((error > bound).sum())} of {x0.size} entries off)")


def _random_direction_check(loss_at, x0, analytic, i, eps, atol, rtol, n_directions, rng):
    """Compare v^T J u (finite differences) with (J^T v) . u (backward) for random u."""
    worst = None
    for d in range(n_directions):
        u = rng.standard_normal(x0.shape)
        numeric = (loss_at(x0 + eps * u) - loss_at(x0 - eps * u)) / (2 * eps)
        exact = float(np.sum(analytic * u))
        excess = abs(exact - numeric) - (atol * np.sqrt(x0.size) + rtol * abs(numeric))
        if excess > 0 and (worst is None or excess > worst[0]):
            worst = (excess, d, exact, numeric)
    if worst is not None:
        _, d, exact, numeric = worst
        raise GradcheckError(
            f"gradcheck: input {i} (shape {x0.shape}), worst random direction {d} of "
            f"{n_directions}: backward (analytic) gives {exact:.8g}, finite differences "
            f"(numeric) {numeric:.8g}")


def gradcheck(fn, inputs, *, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
              max_full: int = 64, n_directions: int = 8, seed: int = 0) -> bool:
    """Check the backward of ``fn`` (Tensors -> Tensor) at ``inputs`` (float64 arrays).

    ``inputs`` may be non-contiguous views (transposed, sliced): the backward pass sees them
    as they are; the finite differences perturb contiguous copies. Every input is checked.
    Returns True, or raises GradcheckError naming the input, the worst entry (or direction),
    the analytic and the numeric value.
    """
    arrays = [np.asarray(x) for x in inputs]
    _check_inputs(arrays, eps)
    rng = np.random.default_rng(seed)
    v, analytic = _analytic_gradients(fn, arrays, rng)
    for i in range(len(arrays)):
        def loss_at(x, i=i):
            trial = list(arrays)
            trial[i] = x
            return float(np.sum(_evaluate(fn, trial) * v))

        x0 = arrays[i].copy()
        if x0.size <= max_full:
            _full_jacobian_check(loss_at, x0, analytic[i], i, eps, atol, rtol)
        else:
            _random_direction_check(loss_at, x0, analytic[i], i, eps, atol, rtol,
                                    n_directions, rng)
    return True


def check_op(fn, *shapes, seed: int = 0, low: float = -2.0, high: float = 2.0, **options) -> bool:
    """Gradient-check ``fn`` on uniform float64 inputs in [low, high) of the given shapes.

    >>> check_op(lambda a, b: (a * b).tanh(), (3, 4), (4,))
    True
    """
    rng = np.random.default_rng(seed)
    inputs = [rng.uniform(low, high, shape) for shape in shapes]
    return gradcheck(fn, inputs, seed=seed, **options)
