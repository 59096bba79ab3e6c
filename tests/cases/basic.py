"""Gradient-check cases for the engine's ops (elementwise, reductions, shape, linalg, loss)."""
import numpy as np

from minisnip import ops
from minisnip.ops import (Abs, Add, Amax, Amin, Cat, CrossEntropy, Div, Exp, GetItem, Linear,
                          Log, LogSoftmax, MatMul, Mean, Mul, Neg, Permute, Pow, ReLU, Reshape,
                          Sigmoid, Stack, Sub, Sum, TakeAlongDim, Tanh)

from . import gradcheck_case


def away_from_zero(rng, shape, margin=0.1):
    """Values with |x| >= margin: kinks (relu, abs) and poles (div, log) stay out of eps reach."""
    x = rng.uniform(margin, 2.0, shape)
    return x * rng.choice([-1.0, 1.0], shape)


@gradcheck_case(Add)
def add_broadcast(rng):
    return (lambda a, b: a + b), [rng.standard_normal((3, 1, 4)), rng.standard_normal((2, 4))]


@gradcheck_case(Add)
def add_same_tensor_twice(rng):
    return (lambda a: a + a), [rng.standard_normal((3, 2))]


@gradcheck_case(Sub)
def sub_broadcast(rng):
    return (lambda a, b: a - b), [rng.standard_normal((4,)), rng.standard_normal((3, 4)).T.T]


@gradcheck_case(Mul)
def mul_noncontiguous(rng):
    a = rng.standard_normal((4, 3)).T          # transposed view
    b = rng.standard_normal((6, 8))[::2, ::2]  # strided slice (3, 4)
    return (lambda x, y: x * y), [a, b]


@gradcheck_case(Div)
def div_broadcast(rng):
    return (lambda a, b: a / b), [rng.standard_normal((2, 3)), away_from_zero(rng, (3,), 0.5)]


@gradcheck_case(Neg)
def neg(rng):
    return (lambda a: -a), [rng.standard_normal((2, 3))]


@gradcheck_case(Pow)
def pow_scalar(rng):
    return (lambda a: a ** 3), [rng.standard_normal((2, 3))]


@gradcheck_case(Pow)
def pow_fractional(rng):
    return (lambda a: a ** 0.5), [rng.uniform(0.5, 2.0, (4,))]


@gradcheck_case(Exp)
def exp(rng):
    return (lambda a: a.exp()), [rng.standard_normal((3, 2))]


@gradcheck_case(Log)
def log(rng):
    return (lambda a: a.log()), [rng.uniform(0.2, 3.0, (3, 2))]


@gradcheck_case(ReLU)
def relu(rng):
    return (lambda a: a.relu()), [away_from_zero(rng, (3, 4))]


@gradcheck_case(Tanh)
def tanh(rng):
    return (lambda a: a.tanh()), [rng.standard_normal((3, 4))]


@gradcheck_case(Sigmoid)
def sigmoid(rng):
    return (lambda a: a.sigmoid()), [rng.standard_normal((3, 4)) * 3]


@gradcheck_case(Abs)
def abs_(rng):
    return (lambda a: a.abs()), [away_from_zero(rng, (5,))]


@gradcheck_case(Sum)
def sum_axis_keepdim(rng):
    return (lambda a: a.sum(dim=1, keepdim=True)), [rng.standard_normal((2, 3, 4))]


@gradcheck_case(Sum)
def sum_all(rng):
    return (lambda a: a.sum()), [rng.standard_normal((2, 3))]


@gradcheck_case(Mean)
def mean_axes(rng):
    return (lambda a: a.mean(dim=(0, 2))), [rng.standard_normal((2, 3, 4))]


@gradcheck_case(TakeAlongDim)
def max_along_a_dim(rng):
    x = rng.permutation(24).astype(np.float64).reshape(2, 3, 4)  # distinct: no ties
    return (lambda a: a.max(dim=-1).values), [x]


@gradcheck_case(TakeAlongDim)
def min_along_a_dim_keepdim_with_ties_below_the_minimum(rng):
    """Ties among entries that are not the minimum: the minimum's gradient is still exact.
    (At a tied minimum, max(dim)/min(dim) are not differentiable: the gradient goes to the
    returned index, which finite differences cannot see; tests/test_tensor.py checks it.)"""
    x = np.array([[0.5, 2.0, 2.0, 3.0], [3.0, 3.0, -1.0, 3.0], [1.0, 0.0, 4.0, 4.0]])
    return (lambda a: a.min(dim=1, keepdim=True).values), [x]


@gradcheck_case(Amax)
def amax_several_dims_keepdim(rng):
    x = rng.permutation(24).astype(np.float64).reshape(2, 3, 4)
    return (lambda a: a.amax(dim=(0, 2), keepdim=True)), [x]


@gradcheck_case(Amax)
def amax_with_tied_maxima_shares_the_gradient(rng):
    """At a tie of two, the central differences see each tied entry with weight 1/2 (the
    one-sided derivatives are 1 and 0): PyTorch's even split of the gradient is exactly that.
    (At a tie of three they see 1/2 again, the split gives 1/3: not checkable this way.)"""
    x = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 1.0], [0.0, -1.0, 0.5]])
    return (lambda a: a.amax(dim=1)), [x]


@gradcheck_case(Amax)
def max_of_everything_with_ties(rng):
    x = np.array([[1.0, 4.0], [4.0, -2.0], [3.0, 0.0]])
    return (lambda a: a.max()), [x]


@gradcheck_case(Amin)
def amin_with_tied_minima(rng):
    x = np.array([[1.0, -3.0, -3.0, 2.0], [0.0, 0.0, 5.0, 1.0]]).T   # (4, 2), a view
    return (lambda a: a.amin(dim=0)), [x]


@gradcheck_case(Amin)
def min_of_everything_with_ties(rng):
    x = np.array([[1.0, -4.0], [-4.0, 2.0]])
    return (lambda a: a.min()), [x]


@gradcheck_case(Reshape)
def reshape(rng):
    return (lambda a: a.reshape(3, -1) * a.reshape(3, -1)), [rng.standard_normal((2, 3, 2))]


@gradcheck_case(Permute)
def permute(rng):
    return (lambda a: a.permute(2, 0, 1)), [rng.standard_normal((2, 3, 4))]


@gradcheck_case(Permute)
def transpose(rng):
    return (lambda a: a.transpose(0, 1)), [rng.standard_normal((2, 3))]


@gradcheck_case(GetItem)
def getitem_slices(rng):
    return (lambda a: a[1:, ::2]), [rng.standard_normal((3, 5))]


@gradcheck_case(GetItem)
def getitem_repeated_integer_array(rng):
    return (lambda a: a[np.array([0, 2, 0])]), [rng.standard_normal((3, 2))]


@gradcheck_case(GetItem)
def getitem_boolean_mask(rng):
    return (lambda a: a[np.array([True, False, True])]), [rng.standard_normal((3, 2))]


@gradcheck_case(Cat)
def cat(rng):
    return (lambda a, b: ops.cat([a, b, a], dim=1)), [rng.standard_normal((2, 3)),
                                                     rng.standard_normal((2, 1))]


@gradcheck_case(Stack)
def stack(rng):
    return (lambda a, b: ops.stack([a, b], dim=1)), [rng.standard_normal((2, 3)),
                                                    rng.standard_normal((2, 3))]


@gradcheck_case(MatMul)
def matmul_2d_transposed(rng):
    return (lambda a, b: a @ b), [rng.standard_normal((4, 3)).T, rng.standard_normal((4, 5))]


@gradcheck_case(MatMul)
def matmul_batched_broadcast(rng):
    return (lambda a, b: a @ b), [rng.standard_normal((2, 1, 3, 4)), rng.standard_normal((3, 4, 2))]


@gradcheck_case(MatMul)
def matmul_vector(rng):
    return (lambda a, b: a @ b), [rng.standard_normal((3,)), rng.standard_normal((3, 2))]


@gradcheck_case(MatMul)
def matmul_vector_vector(rng):
    """Two 1-D operands: a scalar out, both axes given back in the backward."""
    return (lambda a, b: a @ b), [rng.standard_normal((5,)), rng.standard_normal((5,))]


@gradcheck_case(MatMul)
def matmul_batched_with_vectors(rng):
    return (lambda a, b, c: (a @ b).sum() + (b @ c).sum()), \
        [rng.standard_normal((2, 3, 4)), rng.standard_normal((4,)), rng.standard_normal((2, 4, 3))]


@gradcheck_case(MatMul)
def matmul_large_random_directions(rng):
    return (lambda a, b: a @ b), [rng.standard_normal((12, 20)), rng.standard_normal((20, 9))]


@gradcheck_case(MatMul)
def matmul_long_k_on_dot_tiles(rng):
    """k >= 128: the forward product runs on the dot-product tiles (the others on tiles)."""
    return (lambda a, b: a @ b), [rng.standard_normal((3, 140)), rng.standard_normal((140, 5))]


@gradcheck_case(Linear)
def linear_large_batch_weight_gradient_on_dot_tiles(rng):
    """A batch of 130: the weight gradient g^T x has k = 130 (the dot-product tiles)."""
    from minisnip import functional as F
    return (lambda x, w, b: F.linear(x, w, b)), [rng.standard_normal((130, 6)),
                                                 rng.standard_normal((5, 6)),
                                                 rng.standard_normal((5,))]


@gradcheck_case(Linear)
def linear_with_bias(rng):
    from minisnip import functional as F
    return (lambda x, w, b: F.linear(x, w, b)), [rng.standard_normal((4, 3)),
                                                 rng.standard_normal((5, 3)),
                                                 rng.standard_normal((5,))]


@gradcheck_case(Linear)
def linear_batched_no_bias(rng):
    from minisnip import functional as F
    return (lambda x, w: F.linear(x, w)), [rng.standard_normal((2, 3, 4)),
                                           rng.standard_normal((2, 4))]


@gradcheck_case(LogSoftmax)
def log_softmax(rng):
    from minisnip import functional as F
    return (lambda x: F.log_softmax(x, dim=1)), [rng.standard_normal((3, 4)) * 3]


@gradcheck_case(CrossEntropy)
def cross_entropy(rng):
    from minisnip import functional as F
    targets = np.array([0, 3, 1, 3])
    return (lambda x: F.cross_entropy(x, targets)), [rng.standard_normal((4, 5)) * 2]


# ------------------------------------------------ more layouts: transposed and sliced views
@gradcheck_case(Exp)
def exp_sliced(rng):
    return (lambda a: a.exp()), [rng.standard_normal((6, 5))[::2, 1::2]]


@gradcheck_case(Div)
def div_numerator_broadcast_transposed(rng):
    return (lambda a, b: a / b), [rng.standard_normal((3,)),
                                  away_from_zero(rng, (3, 4), 0.5).T]


@gradcheck_case(Sigmoid)
def sigmoid_transposed(rng):
    return (lambda a: a.sigmoid()), [rng.standard_normal((4, 3)).T * 3]


@gradcheck_case(Sum)
def sum_transposed_negative_dim(rng):
    return (lambda a: a.sum(dim=-2)), [rng.standard_normal((4, 3)).T]


@gradcheck_case(Mean)
def mean_sliced_keepdim(rng):
    return (lambda a: a.mean(dim=1, keepdim=True)), [rng.standard_normal((4, 6))[::2, ::2]]


@gradcheck_case(TakeAlongDim)
def max_transposed(rng):
    x = rng.permutation(12).astype(np.float64).reshape(3, 4).T
    return (lambda a: a.max(dim=0).values), [x]


@gradcheck_case(Reshape)
def flatten_transposed(rng):
    return (lambda a: a.flatten() * 2), [rng.standard_normal((3, 2, 2)).transpose(2, 0, 1)]


@gradcheck_case(GetItem)
def getitem_int_and_array(rng):
    return (lambda a: a[1, np.array([2, 0, 2])]), [rng.standard_normal((3, 4)).T]


@gradcheck_case(Stack)
def stack_negative_dim_views(rng):
    return (lambda a, b: ops.stack([a, b], dim=-1)), [rng.standard_normal((3, 2)).T,
                                                     rng.standard_normal((4, 6))[::2, ::2]]


@gradcheck_case(MatMul)
def matmul_matrix_vector_sliced(rng):
    return (lambda a, b: a @ b), [rng.standard_normal((6, 4))[::2], rng.standard_normal((8,))[::2]]


@gradcheck_case(Linear)
def linear_noncontiguous(rng):
    from minisnip import functional as F
    x = rng.standard_normal((3, 5)).T          # (5, 3) transposed view
    w = rng.standard_normal((8, 3))[::2]       # (4, 3) strided slice
    b = rng.standard_normal((8,))[1::2]        # (4,) strided slice
    return (lambda x, w, b: F.linear(x, w, b)), [x, w, b]


@gradcheck_case(Linear)
def linear_large_random_directions(rng):
    from minisnip import functional as F
    return (lambda x, w, b: F.linear(x, w, b).tanh()), [rng.standard_normal((10, 12)),
                                                        rng.standard_normal((7, 12)),
                                                        rng.standard_normal((7,))]


@gradcheck_case(LogSoftmax)
def log_softmax_dim0_transposed(rng):
    from minisnip import functional as F
    return (lambda x: F.log_softmax(x, dim=0)), [rng.standard_normal((4, 3)).T * 3]


@gradcheck_case(CrossEntropy)
def cross_entropy_sliced_logits(rng):
    from minisnip import functional as F
    targets = np.array([2, 0, 2])
    return (lambda x: F.cross_entropy(x, targets)), [rng.standard_normal((6, 6))[::2, ::2] * 3]
