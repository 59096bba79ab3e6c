"""Gradient-check case for the sparse linear layer."""

from minisnip.kernels.sparse import pattern_from_mask
from minisnip.ops import SparseLinear, sparse_linear

from . import gradcheck_case


@gradcheck_case(SparseLinear)
def sparse_linear_all_inputs(rng):
    mask = rng.random((4, 5)) < 0.4
    pattern = pattern_from_mask(mask)
    return (lambda x, w, b: sparse_linear(x, w, b, pattern)), [
        rng.standard_normal((3, 5)), rng.standard_normal((4, 5)), rng.standard_normal(4)]
