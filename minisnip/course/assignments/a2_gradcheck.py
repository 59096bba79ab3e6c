"""Assignment 2: checking gradients by finite differences, the test every op must pass."""
from ..catalog import Assignment, Task

ASSIGNMENT = Assignment(
    number=2, name="gradcheck", title="Gradient checking by finite differences",
    introduction="""\
A backward rule that is slightly wrong still trains, badly, and nothing tells you. minisnip
checks every op against central finite differences in float64 (`minisnip/gradcheck.py`,
DESIGN principle 4): `gradcheck(fn, inputs)` runs one backward pass with a random output
weighting v, which gives J_i^T v for every input i at once, and compares it with what finite
differences of `L(x) = sum(v * fn(x))` say. Read the module (its docstring, `gradcheck` and
`_analytic_gradients`) and lesson 01's section on gradient checking before you start.

You write the two comparisons: the full Jacobian, entry by entry, for small inputs (2.1), and
random directions for large ones (2.2). Both must catch a wrong backward and say where it is
wrong: a gradient checker that cannot fail is worse than none.
""",
    tasks=(
        Task(
            id="2.1", title="Every entry: central differences", points=20, minutes=45,
            functions=("gradcheck.py:_full_jacobian_check",),
            statement="""\
`_full_jacobian_check(loss_at, x0, analytic, i, eps, atol, rtol)`: `loss_at(x)` is the
scalar `sum(v * fn(..., x, ...))` with input `i` replaced by `x`; `analytic` is the backward
pass's gradient of it with respect to input `i` (the shape of `x0`).

For every entry j of `x0`, the central difference

    numeric_j = (loss_at(x0 + eps e_j) - loss_at(x0 - eps e_j)) / (2 eps)

(perturb a *copy*: never `x0` itself). An entry is wrong when
`|analytic_j - numeric_j| > atol + rtol * |numeric_j|`. If any is wrong, raise
`GradcheckError` whose message names the input (`"input {i}"`), its shape, the **worst**
entry (the largest excess over its bound, as an index tuple such as `(2, 1)`), the analytic
and the numeric value there, and how many entries are off (`"{k} of {size} entries off"`).
Otherwise return nothing.

*Why central*: the error of (f(x+h) - f(x-h)) / 2h is O(h^2), of (f(x+h) - f(x)) / h O(h).""",
        ),
        Task(
            id="2.2", title="Random directions: JVP against VJP", points=20, minutes=45,
            functions=("gradcheck.py:_random_direction_check",),
            statement="""\
For a large input, perturbing every entry costs one forward pass per entry. Instead, for
`n_directions` random directions u (`rng.standard_normal(x0.shape)`), compare the directional
derivative two ways:

    numeric = (loss_at(x0 + eps u) - loss_at(x0 - eps u)) / (2 eps)     (a JVP)
    exact   = sum(analytic * u)                                           (J^T v, dotted with u)

A direction is wrong when `|exact - numeric| > atol * sqrt(x0.size) + rtol * |numeric|`
(the tolerance grows with the number of entries a direction mixes). If any is wrong, raise
`GradcheckError` naming the input (`"input {i}"`), its shape, the worst direction's number
(`"direction {d} of {n_directions}"`) and both values there.

Draw the directions from `rng` in order, one per direction: the checks are reproducible for
a given seed.""",
        ),
    ),
)
