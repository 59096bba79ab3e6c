"""Gradient-check cases for the sparse layers: linear, and the convolution given a pattern."""

from minisnip.kernels.sparse import pattern_from_mask
from minisnip.ops import SparseLinear, sparse_conv2d, sparse_linear
from minisnip.ops import conv as conv_op
from minisnip.ops.conv import Conv2d

from . import gradcheck_case


@gradcheck_case(SparseLinear)
def sparse_linear_all_inputs(rng):
    mask = rng.random((4, 5)) < 0.4
    pattern = pattern_from_mask(mask)
    return (lambda x, w, b: sparse_linear(x, w, b, pattern)), [
        rng.standard_normal((3, 5)), rng.standard_normal((4, 5)), rng.standard_normal(4)]


def _sparse_conv_inputs(rng, n, c, h, w, oc, kh, kw):
    mask = rng.random((oc, c, kh, kw)) < 0.4
    weight = rng.standard_normal(mask.shape) * mask  # 0 outside the pattern, as pruned
    return (pattern_from_mask(mask.reshape(oc, -1)),
            [rng.standard_normal((n, c, h, w)), weight, rng.standard_normal(oc)])


@gradcheck_case(Conv2d)
def sparse_conv_one_tile(rng):
    pattern, inputs = _sparse_conv_inputs(rng, 2, 2, 5, 6, 3, 3, 2)
    return (lambda x, w, b: sparse_conv2d(x, w, b, pattern, stride=1, padding=1)), inputs


@gradcheck_case(Conv2d)
def sparse_conv_in_batch_tiles(rng):
    """A batch of 5 in tiles of 1, 2 and 2 images, as ``conv.conv_in_batch_tiles``."""
    pattern, inputs = _sparse_conv_inputs(rng, 5, 2, 6, 5, 3, 3, 3)

    def conv(x, w, b):
        before, conv_op.COLS_BUDGET_BYTES = conv_op.COLS_BUDGET_BYTES, 2 * 2 * 9 * 3 * 3 * 8
        try:
            return sparse_conv2d(x, w, b, pattern, stride=2, padding=1)
        finally:
            conv_op.COLS_BUDGET_BYTES = before
    return conv, inputs
