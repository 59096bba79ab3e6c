"""Finite-difference gradient checks, in float64 (DESIGN principle 4).

``gradcheck(fn, inputs)`` compares the gradients that ``backward`` computes with central
finite differences  (f(x + eps e) - f(x - eps e)) / (2 eps):

* small inputs (total size <= ``max_full``): the full Jacobian, entry by entry;
* large inputs: ``n_directions`` random directions u per input, comparing the directional
  derivative from finite differences, v . (f(x + eps u) - f(x - eps u)) / (2 eps), with the
  one from the backward pass, (J^T v) . u  (a JVP against the VJP).

The output is reduced to a scalar with a fixed random weighting v, so one backward pass gives
J^T v for every input at once.
"""
from __future__ import annotations

import numpy as np

from .tensor import Tensor


class GradcheckError(AssertionError):
    """The analytic and numerical gradients disagree (the message says where and by how much)."""


def _evaluate(fn, arrays):
    out = fn(*[Tensor(a) for a in arrays])
    return out.data if isinstance(out, Tensor) else np.asarray(out)


def gradcheck(fn, inputs, *, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
              max_full: int = 64, n_directions: int = 8, seed: int = 0,
              check: tuple = None) -> bool:
    """Check the backward of ``fn`` (Tensors -> Tensor) at ``inputs`` (float64 arrays).

    ``check``: indices of the inputs to check (default all). Raises GradcheckError on the
    first mismatch, naming the input, the entry or direction, and both values.
    """
    arrays = [np.asarray(x) for x in inputs]
    for i, a in enumerate(arrays):
        if a.dtype != np.float64:
            raise TypeError(f"gradcheck: input {i} has dtype {a.dtype}; finite differences need "
                            f"float64 inputs (float32 rounding swamps eps = {eps})")
    check = tuple(range(len(arrays))) if check is None else tuple(check)
    rng = np.random.default_rng(seed)
    tensors = [Tensor(a, requires_grad=(i in check)) for i, a in enumerate(arrays)]
    out = fn(*tensors)
    if not isinstance(out, Tensor) or not out.requires_grad:
        raise GradcheckError("gradcheck: fn did not return a Tensor that depends on the inputs")
    v = rng.standard_normal(out.shape)
    out.backward(v)
    for i in check:
        analytic = tensors[i].grad if tensors[i].grad is not None else np.zeros_like(arrays[i])

        def loss_at(x, i=i):
            trial = list(arrays)
            trial[i] = x
            return float(np.sum(_evaluate(fn, trial) * v))

        x0 = arrays[i].copy()
        if x0.size <= max_full:
            numeric = np.zeros(x0.size)
            flat = x0.reshape(-1)
            for j in range(x0.size):
                plus, minus = flat.copy(), flat.copy()
                plus[j] += eps
                minus[j] -= eps
                numeric[j] = (loss_at(plus.reshape(x0.shape)) -
                              loss_at(minus.reshape(x0.shape))) / (2 * eps)
            numeric = numeric.reshape(x0.shape)
            error = np.abs(analytic - numeric)
            bound = atol + rtol * np.abs(numeric)
            if (error > bound).any():
                j = np.unravel_index(np.argmax(error - bound), x0.shape)
                raise GradcheckError(
                    f"gradcheck: input {i} (shape {x0.shape}), entry {tuple(int(k) for k in j)}: "
                    f"backward gives {analytic[j]:.8g}, finite differences {numeric[j]:.8g} "
                    f"(|difference| {error[j]:.3g} > {bound[j]:.3g})")
        else:
            for d in range(n_directions):
                u = rng.standard_normal(x0.shape)
                numeric = (loss_at(x0 + eps * u) - loss_at(x0 - eps * u)) / (2 * eps)
                exact = float(np.sum(analytic * u))
                if abs(exact - numeric) > atol * np.sqrt(x0.size) + rtol * abs(numeric):
                    raise GradcheckError(
                        f"gradcheck: input {i} (shape {x0.shape}), random direction {d}: "
                        f"backward gives {exact:.8g}, finite differences {numeric:.8g}")
    return True
