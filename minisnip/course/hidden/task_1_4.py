"""Task 1.4, instructor's tests: random DAGs against a brute-force check of the order."""
import numpy as np
from hypothesis import given, settings, strategies as st

from minisnip import Tensor
from minisnip.autograd import _topological_order


@settings(max_examples=40, deadline=None)
@given(edges=st.lists(st.tuples(st.integers(0, 7), st.integers(0, 7)), min_size=1,
                      max_size=25))
def test_random_dags(edges):
    """Build node i + 1 from two earlier nodes (of the drawn indices modulo i + 1), then check
    that every node comes after its parents and each appears once."""
    nodes = [Tensor(np.array([1.0]), requires_grad=True)]
    for i, (p, q) in enumerate(edges):
        nodes.append(nodes[p % len(nodes)] + nodes[q % len(nodes)])
    order = _topological_order(nodes[-1])
    ids = [id(t) for t in order]
    assert len(ids) == len(set(ids))
    where = {i: k for k, i in enumerate(ids)}
    for t in order:
        if t._node is not None:
            for parent in t._node.parents:
                if parent is not None:
                    assert where[id(parent)] < where[id(t)]
    assert order[-1] is nodes[-1]


def test_constants_are_not_visited():
    a = Tensor(np.array([1.0]), requires_grad=True)
    k = Tensor(np.array([2.0]))
    order = _topological_order(a * k + 1.0)
    assert all(t.requires_grad for t in order)
