"""Task 1.4: the order in which backward walks the graph (parents before children, each
tensor once, no recursion)."""
import sys

import numpy as np

from minisnip import Tensor
from minisnip.autograd import Function, _topological_order


def _leaf(value=1.0):
    return Tensor(np.array([value]), requires_grad=True)


def test_parents_come_before_children():
    a, b = _leaf(1.0), _leaf(2.0)
    c = a + b
    d = c + a
    order = _topological_order(d)
    position = {id(t): i for i, t in enumerate(order)}
    assert set(position) == {id(a), id(b), id(c), id(d)}
    assert position[id(a)] < position[id(c)] < position[id(d)]
    assert position[id(b)] < position[id(c)]


def test_a_tensor_used_twice_appears_once():
    a = _leaf()
    b = a + a
    order = _topological_order(b)
    assert [id(t) for t in order].count(id(a)) == 1 and len(order) == 2


def test_a_diamond():
    a = _leaf()
    b, c = a + 1.0, a + 2.0
    d = b + c
    order = _topological_order(d)
    assert len(order) == 4 and order[0] is a and order[-1] is d


def test_deeper_than_the_recursion_limit():
    x = _leaf()
    y = x
    for _ in range(sys.getrecursionlimit() + 500):
        y = y + 1.0
    order = _topological_order(y)
    assert len(order) == sys.getrecursionlimit() + 501 and order[0] is x and order[-1] is y


class _Plus(Function):
    """x + y for same-shape inputs, written here so that these tests need no other task."""

    @staticmethod
    def forward(ctx, x, y):
        return x + y

    @staticmethod
    def backward(ctx, grad):
        return grad, grad


def test_the_whole_backward_works():
    a, b = _leaf(3.0), _leaf(4.0)
    out = _Plus.apply(_Plus.apply(a, b), _Plus.apply(a, a))
    out.backward()
    assert a.grad[0] == 3.0 and b.grad[0] == 1.0
