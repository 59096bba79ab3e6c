"""Gradient-check cases for convolution, pooling and batch normalization."""
import numpy as np

from minisnip import functional as F
from minisnip.ops import AvgPool2d, BatchNorm2d, Conv2d, MaxPool2d
from minisnip.ops import conv as conv_op

from . import gradcheck_case


@gradcheck_case(Conv2d)
def conv_stride1_pad1(rng):
    return (lambda x, w, b: F.conv2d(x, w, b, stride=1, padding=1)), [
        rng.standard_normal((2, 2, 5, 4)), rng.standard_normal((3, 2, 3, 3)), rng.standard_normal(3)]


@gradcheck_case(Conv2d)
def conv_stride2_noncontiguous(rng):
    x = rng.standard_normal((2, 7, 6, 2)).transpose(0, 3, 1, 2)   # (2, 2, 7, 6), a view
    return (lambda x, w: F.conv2d(x, w, stride=2, padding=0)), [x, rng.standard_normal((2, 2, 3, 2))]


@gradcheck_case(Conv2d)
def conv_large_random_directions(rng):
    return (lambda x, w: F.conv2d(x, w, stride=1, padding=2)), [
        rng.standard_normal((2, 3, 8, 8)), rng.standard_normal((4, 3, 5, 5))]


@gradcheck_case(Conv2d)
def conv_many_input_channels_on_dot_tiles(rng):
    """C * KH * KW = 128: the forward product runs on the dot-product tiles."""
    return (lambda x, w: F.conv2d(x, w, stride=2, padding=1)), [
        rng.standard_normal((2, 8, 6, 6)), rng.standard_normal((3, 8, 4, 4)) * 0.2]


@gradcheck_case(Conv2d)
def conv_weight_gradient_over_a_large_batch_on_long_k(rng):
    """128 x 128 outputs for 2 x 3 weights: the weight gradient is a product with a tiny
    output and k = 16,384, the chunked long-k kernel."""
    return (lambda x, w: F.conv2d(x, w)), [rng.standard_normal((1, 1, 128, 130)),
                                           rng.standard_normal((2, 1, 1, 3))]


@gradcheck_case(Conv2d)
def conv_in_batch_tiles(rng):
    """A batch of 5 in tiles of 1, 2 and 2 images (ops/conv.py's budget set to one image's
    columns plus a bit during the forward; the backward runs on the forward's tiles)."""
    def conv(x, w, b):
        before, conv_op.COLS_BUDGET_BYTES = conv_op.COLS_BUDGET_BYTES, 2 * 2 * 9 * 3 * 3 * 8
        try:
            return F.conv2d(x, w, b, stride=2, padding=1)
        finally:
            conv_op.COLS_BUDGET_BYTES = before
    return conv, [rng.standard_normal((5, 2, 6, 5)), rng.standard_normal((3, 2, 3, 3)),
                  rng.standard_normal(3)]


@gradcheck_case(MaxPool2d)
def max_pool(rng):
    x = rng.permutation(2 * 2 * 6 * 4).astype(np.float64).reshape(2, 2, 6, 4) / 10  # no ties
    return (lambda x: F.max_pool2d(x, 2)), [x]


@gradcheck_case(MaxPool2d)
def max_pool_overlapping(rng):
    x = rng.permutation(50).astype(np.float64).reshape(1, 2, 5, 5) / 10
    return (lambda x: F.max_pool2d(x, 3, stride=1)), [x]


@gradcheck_case(MaxPool2d)
def max_pool_rectangular_padded_unequal_strides(rng):
    x = rng.permutation(2 * 2 * 5 * 6).astype(np.float64).reshape(2, 2, 5, 6) / 10
    return (lambda x: F.max_pool2d(x, (3, 2), stride=(2, 1), padding=(1, 1))), [x]


@gradcheck_case(AvgPool2d)
def avg_pool(rng):
    return (lambda x: F.avg_pool2d(x, (2, 3), stride=1)), [rng.standard_normal((2, 2, 4, 5))]


@gradcheck_case(AvgPool2d)
def avg_pool_rectangular_without_stride(rng):
    return (lambda x: F.avg_pool2d(x, (2, 3))), [rng.standard_normal((1, 2, 4, 7))]


@gradcheck_case(AvgPool2d)
def avg_pool_padded_unequal_strides(rng):
    return (lambda x: F.avg_pool2d(x, (3, 4), stride=(2, 3), padding=(1, 2))), [
        rng.standard_normal((2, 2, 5, 6)).transpose(0, 1, 3, 2)]


@gradcheck_case(BatchNorm2d)
def batch_norm_training(rng):
    rm, rv = np.zeros(3), np.ones(3)
    return (lambda x, g, b: F.batch_norm(x, rm.copy(), rv.copy(), g, b, True)), [
        rng.standard_normal((4, 3, 2, 2)), rng.standard_normal(3), rng.standard_normal(3)]


@gradcheck_case(BatchNorm2d)
def batch_norm_eval(rng):
    rm, rv = rng.standard_normal(3), rng.uniform(0.5, 2, 3)
    return (lambda x, g, b: F.batch_norm(x, rm, rv, g, b, False)), [
        rng.standard_normal((2, 3, 2, 2)), rng.standard_normal(3), rng.standard_normal(3)]
