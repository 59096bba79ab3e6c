"""Assignment 1: reverse-mode automatic differentiation, the engine under everything else."""
from ..catalog import Assignment, Task

ASSIGNMENT = Assignment(
    number=1, name="autodiff", title="Reverse-mode automatic differentiation",
    introduction="""\
minisnip computes gradients the way PyTorch does: every operation records a node of a graph
in the forward pass, and `loss.backward()` walks that graph from the loss back to the leaves,
calling each op's `backward` with the gradient of the loss with respect to the op's output
and summing what comes back into the inputs' gradients. Read `minisnip/autograd.py` (the
walk) and `minisnip/ops/elementwise.py` (ops written as `forward` and `backward` side by
side) before you start, and lesson 01 (`lessons/01_autodiff.py`).

In this assignment you write the pieces that make that work: undoing NumPy's broadcasting
(1.1), the backward rules of elementwise ops (1.2) and reductions (1.3), and the order in
which the graph is walked (1.4). Every rule you write is a vector-Jacobian product: given
`grad` = dL/d(out), return dL/d(input) for each input, of the input's shape and dtype.
""",
    tasks=(
        Task(
            id="1.1", title="Undo broadcasting", points=10, minutes=30,
            functions=("autograd.py:unbroadcast",),
            statement="""\
When `x` of shape `(3, 1)` is added to `y` of shape `(2, 1, 4)`, NumPy broadcasts both to
`(2, 3, 4)`: `x` is used 2 * 4 times per entry. Each use receives a gradient, and the gradient
of the entry is their **sum**. `unbroadcast(grad, shape)` sums `grad` (of the broadcast shape)
down to `shape`:

1. sum over the leading axes that `shape` does not have (`grad.ndim - len(shape)` of them);
2. sum, keeping the axis, over every axis where `shape` has size 1 but `grad` does not;
3. return an array of exactly `shape` (a 0-d array for `shape == ()`).

Return `grad` itself when the shapes already agree (no copy: this is on every op's path).

*Hints*: `np.sum(..., axis=tuple, keepdims=True)`; test yourself with
`np.broadcast_to(x, big).copy()` and compare `unbroadcast(np.ones(big), x.shape)` with how
many times each entry was used.""",
        ),
        Task(
            id="1.2", title="Backward of elementwise ops", points=20, minutes=60,
            functions=("ops/elementwise.py:Mul.backward", "ops/elementwise.py:Div.backward",
                       "ops/elementwise.py:Log.backward", "ops/elementwise.py:Tanh.backward"),
            depends=("1.1",),
            statement="""\
Write `backward` for four ops of `minisnip/ops/elementwise.py`. `forward` has saved what you
need in `ctx` (read it: `ctx.saved` holds what `ctx.save_for_backward` was given). Return
one gradient per input of `forward`, as a tuple, `None` where `ctx.needs_input_grad[i]` is
False (that input is a constant: skip the work).

* `a * b`: d/da = `grad * b`, d/db = `grad * a`;
* `a / b`: d/da = `grad / b`, d/db = `-grad * a / b**2`;
* `log(a)`: `grad / a`;
* `tanh(a)`: `grad * (1 - tanh(a)**2)`: forward saved its *output*, use it.

`a` and `b` may have different shapes that broadcast together: pass each gradient through
your `unbroadcast` (task 1.1) to give it its input's shape. Keep the dtype: a float32 input
gets a float32 gradient.""",
        ),
        Task(
            id="1.3", title="Backward of reductions", points=15, minutes=45,
            functions=("ops/reduction.py:Sum.backward", "ops/reduction.py:Mean.backward"),
            statement="""\
`x.sum(dim, keepdim)` and `x.mean(dim, keepdim)` reduce over the axes `ctx.axes` (a sorted
tuple) of an input of shape `ctx.shape`. Every input entry contributes to exactly one output
entry with weight 1 (sum) or `1 / ctx.count` (mean), so the gradient of an input entry is
the gradient of its output entry (divided by `ctx.count` for the mean).

Give the reduced axes back (`np.expand_dims(grad, ctx.axes)` unless `ctx.keepdim`: the helper
`_expand` in the same file does it), broadcast to `ctx.shape` and return a **contiguous
copy** (an array the caller may write into), of the gradient's dtype. Return a tuple with one
entry per input of `forward` (`None` for the non-tensor arguments `axes` and `keepdim`).""",
        ),
        Task(
            id="1.4", title="The order of the walk", points=15, minutes=45,
            functions=("autograd.py:_topological_order",),
            statement="""\
`backward` must call an op's `backward` only after every use of the op's output has added
its gradient: children before parents, i.e. the reverse of a topological order of the graph.
`_topological_order(root)` returns the tensors reachable from `root` (through `tensor._node`,
whose `parents` are the input tensors, `None` for constants), **parents before children**,
each tensor once, even when it is used twice (`a + a`, or a diamond).

Write it **without recursion**: a network unrolled over many steps (or a Python loop of
10,000 ops) is deeper than Python's recursion limit. A depth-first search with an explicit
stack of `(tensor, expanded)` pairs works: pop a tensor; if it was expanded, append it to
the order; otherwise mark it visited, push it back as expanded, and push its unvisited
parents. Use `id(tensor)` to remember what you visited (Tensors define `==` elementwise).""",
        ),
    ),
)
