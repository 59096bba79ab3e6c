"""Example calls of every kernel, run against its oracle in ``minisnip/kernels/reference.py``
(DESIGN principle 3): with the JIT by ``tests/test_kernels.py``, without it by
``tests/test_kernels_without_jit.py``. The hypothesis tests of each family (test_conv.py,
test_rnn.py, ...) search shapes and layouts more widely; these cases make sure that each
kernel is called at all, and through each of its paths (``test_kernels.py`` checks that the
convolution and recurrent cases reach every matmul kernel).

A case is ``factory(rng) -> args``: the positional arguments of one call. It is built twice
from the same seed, so the kernel and its oracle each get their own arrays (a kernel may write
into the arrays it is given: every array argument is compared after the call, too).
"""
import numpy as np

from minisnip.kernels import matmul as mm
from minisnip.kernels import reference as ref

CASES: dict = {}  # "family.kernel" -> [(case name, factory)]


def case(kernel: str, name: str = None):
    def register(factory):
        CASES.setdefault(kernel, []).append((name or factory.__name__, factory))
        return factory
    return register


def _blas():
    from minisnip.ops.linalg import BLAS  # the other backend's products, made in ops
    return BLAS


def _normal(rng, shape, dtype=np.float64, layout="contiguous"):
    """Standard normal entries; ``layout`` "transposed" or "sliced" gives a non-contiguous view."""
    if layout == "transposed":
        return rng.standard_normal(shape[::-1]).astype(dtype).T
    if layout == "sliced":
        return rng.standard_normal(tuple(2 * s for s in shape)).astype(dtype)[
            tuple(slice(None, None, 2) for _ in shape)]
    return rng.standard_normal(shape).astype(dtype)


# ------------------------------------------------------------------------------ activations
for _v in (0.0, 2.5, -2.5, 40.0, -40.0, 800.0, -800.0):
    case("activations.sigmoid", f"v={_v}")(lambda rng, v=_v: (v,))


@case("activations.sigmoid_array")
def sigmoid_both_signs_and_extremes(rng):
    return (np.concatenate([_normal(rng, (50,)) * 5, [-1000.0, 1000.0, 0.0]]),)


@case("activations.sigmoid_array")
def sigmoid_float32_matrix_view(rng):
    return ((_normal(rng, (6, 7), layout="transposed") * 30).astype(np.float32),)


# ----------------------------------------------------------------------------------- matmul
@case("matmul.matmul")
def product_on_tiles(rng):
    return _normal(rng, (7, 5), np.float32), _normal(rng, (5, 70), np.float32, "transposed")


@case("matmul.matmul")
def narrow_output_computed_transposed(rng):
    return _normal(rng, (100, 20), np.float32, "sliced"), _normal(rng, (20, 10), np.float32)


@case("matmul.matmul")
def long_k_on_dot_tiles(rng):
    return _normal(rng, (9, 130), layout="transposed"), _normal(rng, (130, 11), layout="sliced")


@case("matmul.matmul")
def tiny_output_very_long_k(rng):
    return _normal(rng, (3, 4 * mm.KC)), _normal(rng, (2, 4 * mm.KC)).T


@case("matmul.matmul")
def empty(rng):
    return np.zeros((0, 4), np.float32), _normal(rng, (4, 3), np.float32)


@case("matmul.matmul")
def mixed_dtypes_in_the_wider(rng):
    return _normal(rng, (3, 4), np.float32), _normal(rng, (4, 5))


@case("matmul.matmul")
def integers_in_float64(rng):
    return rng.integers(-3, 4, (3, 4)), rng.integers(-3, 4, (4, 2))


@case("matmul.pack_columns")
def row_major_two_strips(rng):
    return (_normal(rng, (9, 70), np.float32),)


@case("matmul.pack_columns")
def column_major_over_several_row_blocks(rng):
    return (_normal(rng, (mm.KB + 44, 20), layout="transposed"),)


@case("matmul.tiles")
def tiles_with_a_ragged_last_tile(rng):
    b = _normal(rng, (9, 70), np.float32)
    return _normal(rng, (6, 9), np.float32, "sliced"), ref.pack_columns(b), 70


@case("matmul.long_k")
def long_k_chunks(rng):
    return _normal(rng, (2, 2 * mm.KC + 5)), _normal(rng, (3, 2 * mm.KC + 5))


for _block in (4, 64):
    case("matmul.dot_tiles", f"ragged_tiles_block={_block}")(
        lambda rng, block=_block: (_normal(rng, (7, 130), np.float32),
                                   _normal(rng, (9, 130), np.float32), block))


@case("matmul.transposed")
def transpose_copy_of_several_blocks(rng):
    return (_normal(rng, (37, 70), np.float32),)


for _layout in ("contiguous", "transposed", "sliced"):
    case("matmul.row_contiguous", _layout)(
        lambda rng, layout=_layout: (_normal(rng, (5, 6), layout=layout),))

for _k in (1, 128, 4096, 100_000):
    for _itemsize in (4, 8):
        case("matmul.dot_block", f"k={_k},itemsize={_itemsize}")(
            lambda rng, k=_k, itemsize=_itemsize: (k, itemsize))


# ------------------------------------------------------------------------------------- conv
for _args in ((5, 3, 1, 0), (5, 3, 2, 1), (28, 5, 1, 2), (4, 4, 3, 0), (7, 2, 3, 1)):
    case("conv.output_size", "size,kernel,stride,padding=" + ",".join(map(str, _args)))(
        lambda rng, args=_args: args)


@case("conv.im2col")
def im2col_rectangular_strided_padded(rng):
    return _normal(rng, (2, 3, 5, 6), np.float32, "transposed"), 2, 3, 2, 1


@case("conv.col2im")
def col2im_overlapping_patches(rng):
    return _normal(rng, (2 * 3 * 3, 2 * 5 * 6)), 2, 2, 5, 6, 3, 3, 1, 1  # output 5 x 6


@case("conv.conv2d_forward")
def conv_forward_narrow_output(rng):
    return _normal(rng, (2, 2, 5, 5)), _normal(rng, (3, 2, 3, 3)), 1, 1


@case("conv.conv2d_forward")
def conv_forward_wide_output(rng):
    return _normal(rng, (2, 2, 5, 5), np.float32), _normal(rng, (70, 2, 3, 3), np.float32), 1, 0


@case("conv.conv2d_forward")
def conv_forward_long_rows_on_dot_tiles(rng):
    return _normal(rng, (2, 8, 6, 6), layout="sliced"), _normal(rng, (3, 8, 4, 4)), 2, 1


@case("conv.conv2d_forward")
def conv_forward_on_blas(rng):
    return _normal(rng, (2, 2, 6, 5)), _normal(rng, (4, 2, 3, 2)), 1, 2, _blas()


def _weight_grad_case(rng, x_shape, w_shape, stride, padding, dtype=np.float64):
    x = _normal(rng, x_shape, dtype)
    (n, _, h, w), (oc, _, kh, kw) = x_shape, w_shape
    oh, ow = ref.output_size(h, kh, stride, padding), ref.output_size(w, kw, stride, padding)
    return _normal(rng, (n, oc, oh, ow), dtype), ref.im2col(x, kh, kw, stride, padding), w_shape


@case("conv.conv2d_weight_grad")
def weight_grad_short_k_on_tiles(rng):
    return _weight_grad_case(rng, (2, 2, 5, 5), (3, 2, 3, 3), 1, 0)


@case("conv.conv2d_weight_grad")
def weight_grad_on_dot_tiles(rng):
    return _weight_grad_case(rng, (4, 2, 8, 8), (3, 2, 3, 3), 1, 0, np.float32)


@case("conv.conv2d_weight_grad")
def weight_grad_tiny_output_long_k(rng):
    return _weight_grad_case(rng, (1, 1, 128, 130), (2, 1, 1, 3), 1, 0)  # k = 128 * 128


@case("conv.conv2d_weight_grad")
def weight_grad_on_blas(rng):
    return _weight_grad_case(rng, (2, 2, 5, 5), (3, 2, 3, 3), 2, 1) + (_blas(),)


@case("conv.conv2d_input_grad")
def input_grad_few_channels_on_tiles(rng):
    return _normal(rng, (2, 3, 5, 5)), _normal(rng, (3, 2, 3, 3)), (2, 2, 5, 5), 1, 1


@case("conv.conv2d_input_grad")
def input_grad_many_channels_on_dot_tiles(rng):
    return (_normal(rng, (2, 130, 3, 3), np.float32, "transposed"),
            _normal(rng, (130, 2, 3, 3), np.float32), (2, 2, 5, 5), 2, 1)


@case("conv.conv2d_input_grad")
def input_grad_on_blas(rng):
    return _normal(rng, (2, 3, 3, 3)), _normal(rng, (3, 2, 3, 2)), (2, 2, 5, 5), 2, 1, _blas()


# ------------------------------------------------------------------------------------- pool
# Arguments: x, kernel (kh, kw), stride (sh, sw), padding (ph, pw): the cases mix rectangular
# kernels, unequal strides and unequal paddings (padding <= kernel / 2, as the ops require).
@case("pool.max_pool2d_forward")
def max_pool_rectangular_overlapping(rng):
    return _normal(rng, (2, 3, 6, 7), layout="transposed"), (2, 3), (1, 1), (0, 0)


@case("pool.max_pool2d_forward")
def max_pool_ties_take_the_first(rng):
    return np.round(_normal(rng, (2, 2, 6, 6))), (3, 3), (2, 2), (0, 0)


@case("pool.max_pool2d_forward")
def max_pool_nan_and_minus_infinity(rng):
    x = _normal(rng, (2, 2, 6, 6), np.float32)
    x[rng.random(x.shape) < 0.2] = np.nan
    x[0, 0] = -np.inf
    return x, (2, 2), (2, 2), (0, 0)


@case("pool.max_pool2d_forward")
def max_pool_rectangular_stride_and_padding(rng):
    return _normal(rng, (2, 2, 7, 6), np.float32, "sliced"), (3, 2), (2, 1), (1, 1)


@case("pool.max_pool2d_forward")
def max_pool_padding_never_wins_over_minus_infinity(rng):
    """Windows of -inf cells and padding: -inf at the window's first input cell."""
    x = np.round(_normal(rng, (1, 2, 5, 4)))
    x[0, 0] = -np.inf
    x[0, 1, :2] = np.nan
    return x, (3, 4), (1, 3), (1, 2)


@case("pool.max_pool2d_backward")
def max_pool_backward_overlapping_windows(rng):
    x = np.round(_normal(rng, (2, 2, 6, 5)))
    _, argmax = ref.max_pool2d_forward(x, (3, 2), (1, 1), (0, 0))
    return _normal(rng, argmax.shape), argmax, 6, 5


@case("pool.max_pool2d_backward")
def max_pool_backward_padded_windows_sharing_a_maximum(rng):
    x = np.round(_normal(rng, (2, 2, 5, 6)))
    _, argmax = ref.max_pool2d_forward(x, (3, 3), (1, 2), (1, 1))
    return _normal(rng, argmax.shape, np.float32), argmax, 5, 6


@case("pool.avg_pool2d_forward")
def avg_pool_rectangular(rng):
    return _normal(rng, (2, 3, 6, 7), np.float32, "sliced"), (2, 3), (2, 2), (0, 0)


@case("pool.avg_pool2d_forward")
def avg_pool_padding_counts_as_zeros(rng):
    return _normal(rng, (2, 2, 5, 6), layout="transposed"), (3, 4), (2, 3), (1, 2)


@case("pool.avg_pool2d_backward")
def avg_pool_backward_overlapping_windows(rng):
    return _normal(rng, (2, 2, 4, 3)), (3, 2), (1, 1), (0, 0), 6, 4


@case("pool.avg_pool2d_backward")
def avg_pool_backward_padded_unequal_strides(rng):
    # input 5 x 6, kernel (3, 4), stride (2, 3), padding (1, 2): output 3 x 3
    return _normal(rng, (2, 2, 3, 3), np.float32, "transposed"), (3, 4), (2, 3), (1, 2), 5, 6


# -------------------------------------------------------------------------------- batchnorm
@case("batchnorm.batch_norm_train_forward")
def batch_norm_statistics(rng):
    return _normal(rng, (3, 4, 2, 5)) * 3 + 1, _normal(rng, (4,)), _normal(rng, (4,)), 1e-5


@case("batchnorm.batch_norm_train_forward")
def batch_norm_float32_shifted(rng):
    x = (_normal(rng, (4, 2, 3, 3), np.float32, "transposed") + 100).astype(np.float32)
    return x, np.ones(2, np.float32), np.zeros(2, np.float32), 1e-5


@case("batchnorm.batch_norm_eval_forward")
def batch_norm_running_statistics(rng):
    return (_normal(rng, (2, 3, 4, 4)), _normal(rng, (3,)), _normal(rng, (3,)),
            _normal(rng, (3,)), rng.uniform(0.5, 2, 3), 1e-5)


@case("batchnorm.batch_norm_train_backward")
def batch_norm_backward(rng):
    x, gamma = _normal(rng, (3, 4, 2, 5)) * 2, _normal(rng, (4,))
    _, xhat, _, _, inv_std = ref.batch_norm_train_forward(x, gamma, np.zeros(4), 1e-5)
    return _normal(rng, x.shape), xhat, gamma, inv_std


# -------------------------------------------------------------------------------- recurrent
def _sequence(rng, gates, t, b, d, h, dtype=np.float64):
    inputs = [_normal(rng, (t, b, d), dtype), _normal(rng, (b, h), dtype)]
    if gates == 4:
        inputs.append(_normal(rng, (b, h), dtype))
    inputs += [_normal(rng, (gates * h, d), dtype) * 0.4, _normal(rng, (gates * h, h), dtype) * 0.1,
               _normal(rng, (gates * h,), dtype) * 0.3, _normal(rng, (gates * h,), dtype) * 0.3]
    return inputs


def _last_cell_gradient(kind, rng, shape, dtype=np.float64):
    """The LSTM backward's dL/dc_T (B, H) argument; none for the GRU, which has no cell."""
    return (_normal(rng, shape, dtype),) if kind == "lstm" else ()


@case("recurrent.lstm_cell_forward")
def lstm_cell(rng):
    b, h = 3, 5
    return (_normal(rng, (b, 4 * h)) * 2, _normal(rng, (b, h)), np.zeros((b, 4 * h)),
            np.zeros((b, h)), np.zeros((b, h)))


@case("recurrent.lstm_cell_backward")
def lstm_cell_back(rng):
    b, h = 3, 5
    gates, c, h_out = np.zeros((b, 4 * h)), np.zeros((b, h)), np.zeros((b, h))
    c_prev = _normal(rng, (b, h))
    ref.lstm_cell_forward(_normal(rng, (b, 4 * h)), c_prev, gates, c, h_out)
    return (_normal(rng, (b, h)), _normal(rng, (b, h)), gates, c, c_prev,
            np.zeros((b, 4 * h)), np.zeros((b, h)))


@case("recurrent.gru_cell_forward")
def gru_cell(rng):
    b, h = 3, 5
    return (_normal(rng, (b, 3 * h)), _normal(rng, (b, 3 * h)), _normal(rng, (b, h)),
            np.zeros((b, 3 * h)), np.zeros((b, h)))


@case("recurrent.gru_cell_backward")
def gru_cell_back(rng):
    b, h = 3, 5
    hw, h_prev, gates = _normal(rng, (b, 3 * h)), _normal(rng, (b, h)), np.zeros((b, 3 * h))
    ref.gru_cell_forward(_normal(rng, (b, 3 * h)), hw, h_prev, gates, np.zeros((b, h)))
    return (_normal(rng, (b, h)), gates, hw, h_prev, np.zeros((b, 3 * h)), np.zeros((b, 3 * h)),
            np.zeros((b, h)))


for _kind, _gates in (("lstm", 4), ("gru", 3)):
    # hidden 3: every per-step product on the packed tiles; 40: the backward's on the dot
    # tiles (k = G*H >= 128); 130: the forward's too (k = H >= 128)
    for _hid, _dtype in ((3, np.float64), (40, np.float32), (130, np.float64)):
        case(f"recurrent.{_kind}_forward", f"{_kind}_hidden_{_hid}")(
            lambda rng, g=_gates, h=_hid, dt=_dtype: tuple(_sequence(rng, g, 3, 2, 4, h, dt)))
        case(f"recurrent.{_kind}_backward", f"{_kind}_hidden_{_hid}")(
            lambda rng, k=_kind, g=_gates, h=_hid, dt=_dtype: (
                _normal(rng, (3, 2, h), dt),
                *_last_cell_gradient(k, rng, (2, h), dt),
                getattr(ref, f"{k}_forward")(*_sequence(rng, g, 3, 2, 4, h, dt))[1]))
    case(f"recurrent.{_kind}_forward", f"{_kind}_on_blas")(
        lambda rng, g=_gates: tuple(_sequence(rng, g, 2, 3, 4, 5)) + (_blas(),))
    case(f"recurrent.{_kind}_backward", f"{_kind}_on_blas")(
        lambda rng, k=_kind, g=_gates: (
            _normal(rng, (2, 3, 5)), *_last_cell_gradient(k, rng, (3, 5)),
            getattr(ref, f"{k}_forward")(*_sequence(rng, g, 2, 3, 4, 5))[1], _blas()))


@case("recurrent.lstm_backward")
def lstm_loss_on_the_last_cell_state_only(rng):
    """dL/dhs = 0: everything flows from dL/dc_T (a loss on PyTorch's c_n alone)."""
    inputs = _sequence(rng, 4, 4, 2, 3, 5)
    return np.zeros((4, 2, 5)), _normal(rng, (2, 5)), ref.lstm_forward(*inputs)[1]


# ------------------------------------------------------------------------------------ optim
def _flat_parameter(rng, masked, size=30):
    mask = (rng.random(size) < 0.5).astype(np.float64) if masked else np.zeros(0)
    return _normal(rng, (size,)), _normal(rng, (size,)), mask


def _sgd_case(masked, momentum, nesterov, first):
    def factory(rng):
        w, g, mask = _flat_parameter(rng, masked)
        dampening = 0.0 if nesterov else 0.2
        return (w, g, _normal(rng, w.shape), mask, 0.1, momentum, dampening, 0.01, nesterov,
                first)
    return factory


def _adam_case(masked):
    def factory(rng):
        w, g, mask = _flat_parameter(rng, masked)
        return w, g, _normal(rng, w.shape), rng.random(w.shape), mask, 1e-3, 0.9, 0.999, \
            1e-8, 0.01, 7
    return factory


for _masked in (False, True):
    for _momentum, _nesterov, _first in ((0.0, False, False), (0.9, False, True),
                                         (0.9, False, False), (0.9, True, False)):
        case("optim.sgd_step", f"masked={_masked},momentum={_momentum},nesterov={_nesterov},"
                               f"first={_first}")(_sgd_case(_masked, _momentum, _nesterov, _first))
    case("optim.adam_step", f"masked={_masked}")(_adam_case(_masked))


def _kept(rng, size=30):
    return np.flatnonzero(rng.random(size) < 0.4).astype(np.int64)


for _momentum, _nesterov, _first in ((0.0, False, False), (0.9, False, True),
                                     (0.9, True, False)):
    case("optim.sgd_step_kept", f"momentum={_momentum},nesterov={_nesterov},first={_first}")(
        lambda rng, mo=_momentum, ne=_nesterov, fi=_first: (
            _normal(rng, (30,)), _normal(rng, (30,)), _normal(rng, (30,)), _kept(rng), 0.1, mo,
            0.0 if ne else 0.2, 0.01, ne, fi))
case("optim.adam_step_kept")(
    lambda rng: (_normal(rng, (30,)), _normal(rng, (30,)), _normal(rng, (30,)),
                 rng.random(30), _kept(rng), 1e-3, 0.9, 0.999, 1e-8, 0.01, 7))


# ----------------------------------------------------------------------------------- sparse
def _mask(rng, density=0.3, shape=(6, 7)):
    mask = rng.random(shape) < density
    mask[1] = False      # an output with no kept connection
    mask[:, 2] = False   # an input with no kept connection
    return mask


for _density in (0.0, 0.3, 1.0):
    case("sparse.pattern_from_mask", f"density={_density}")(
        lambda rng, density=_density: (rng.random((6, 7)) < density,))


@case("sparse.pattern_from_mask")
def pattern_of_a_convolution_mask(rng):
    return (rng.random((4, 2, 3, 3)) < 0.3,)


@case("sparse.gather")
def gather_kept_weights(rng):
    pattern = ref.pattern_from_mask(_mask(rng))
    return _normal(rng, (6, 7), layout="transposed"), pattern[0], pattern[1]


@case("sparse.forward_t")
def sparse_forward(rng):
    row_ptr, row_cols, *_ = ref.pattern_from_mask(_mask(rng))
    return _normal(rng, (7, 5)), _normal(rng, (row_cols.size,)), row_ptr, row_cols


@case("sparse.input_grad_t")
def sparse_input_grad(rng):
    _, row_cols, col_ptr, col_rows, col_pos = ref.pattern_from_mask(_mask(rng))
    return _normal(rng, (6, 5), np.float32), _normal(rng, (row_cols.size,), np.float32), \
        col_ptr, col_rows, col_pos


@case("sparse.weight_grad")
def sparse_weight_grad(rng):
    row_ptr, row_cols, *_ = ref.pattern_from_mask(_mask(rng))
    return _normal(rng, (6, 5)), _normal(rng, (7, 5)), row_ptr, row_cols, row_cols, 6, 7


@case("sparse.weight_grad")
def sparse_weight_grad_from_the_used_columns(rng):
    row_ptr, row_cols, *_ = ref.pattern_from_mask(_mask(rng))
    used, x_rows = ref.compact_columns(row_cols, 7)
    return (_normal(rng, (6, 5), np.float32), _normal(rng, (used.size, 5), np.float32),
            row_ptr, row_cols, x_rows, 6, 7)


for _density in (0.0, 0.1, 1.0):
    case("sparse.compact_columns", f"density={_density}")(
        lambda rng, d=_density: (ref.pattern_from_mask(_mask(rng, d, (5, 9)))[1], 9))


def _conv_pattern(rng, oc, c, kh, kw, density=0.3):
    mask = _mask(rng, density, (oc, c * kh * kw))
    return ref.pattern_from_mask(mask)


@case("sparse.sparse_conv2d_forward")
def sparse_conv_forward_of_no_image(rng):
    row_ptr, row_cols, *_ = _conv_pattern(rng, 6, 2, 3, 3)
    return (np.zeros((0, 2, 5, 5)), _normal(rng, (row_cols.size,)), row_ptr, row_cols, 3, 3,
            1, 1)


@case("sparse.sparse_conv2d_forward")
def sparse_conv_forward_strided_padded(rng):
    row_ptr, row_cols, *_ = _conv_pattern(rng, 6, 2, 3, 3)
    return (_normal(rng, (2, 2, 6, 5), layout="transposed"), _normal(rng, (row_cols.size,)),
            row_ptr, row_cols, 3, 3, 2, 1)


@case("sparse.sparse_conv2d_forward")
def sparse_conv_forward_float32_rectangular_kernel(rng):
    row_ptr, row_cols, *_ = _conv_pattern(rng, 6, 3, 2, 3, density=0.1)
    return (_normal(rng, (3, 3, 5, 6), np.float32), _normal(rng, (row_cols.size,), np.float32),
            row_ptr, row_cols, 2, 3, 1, 0)


@case("sparse.sparse_conv2d_input_grad")
def sparse_conv_input_grad_strided_padded(rng):
    _, row_cols, col_ptr, col_rows, col_pos = _conv_pattern(rng, 6, 2, 3, 3)
    return (_normal(rng, (2, 6, 3, 3), layout="sliced"), _normal(rng, (row_cols.size,)),
            col_ptr, col_rows, col_pos, (2, 2, 6, 5), 3, 3, 2, 1)


@case("sparse.sparse_conv2d_input_grad")
def sparse_conv_input_grad_float32(rng):
    _, row_cols, col_ptr, col_rows, col_pos = _conv_pattern(rng, 6, 3, 2, 3, density=0.1)
    return (_normal(rng, (3, 6, 4, 4), np.float32), _normal(rng, (row_cols.size,), np.float32),
            col_ptr, col_rows, col_pos, (3, 3, 5, 6), 2, 3, 1, 0)


@case("sparse.sparse_conv2d_weight_grad")
def sparse_conv_weight_grad_strided_padded(rng):
    row_ptr, row_cols, *_ = _conv_pattern(rng, 6, 2, 3, 3)
    grad, cols, shape = _weight_grad_case(rng, (2, 2, 6, 5), (6, 2, 3, 3), 2, 1)
    return grad, cols, row_ptr, row_cols, shape


@case("sparse.sparse_conv2d_weight_grad")
def sparse_conv_weight_grad_float32(rng):
    row_ptr, row_cols, *_ = _conv_pattern(rng, 6, 3, 2, 3, density=0.1)
    grad, cols, shape = _weight_grad_case(rng, (3, 3, 5, 6), (6, 3, 2, 3), 1, 0, np.float32)
    return grad, cols, row_ptr, row_cols, shape


# ------------------------------------------------------------------------------- the runner
def tolerance(dtype) -> dict:
    if np.dtype(dtype) == np.float32:
        return dict(rtol=2e-4, atol=2e-4)
    return dict(rtol=1e-9, atol=1e-9)


def assert_same(got, want, where="result"):
    """Kernel result ``got`` against oracle result ``want``: same structure, shapes and dtypes;
    integers exactly, floats to the tolerance of their type (NaN where NaN)."""
    if isinstance(want, tuple):
        assert isinstance(got, tuple) and len(got) == len(want), f"{where}: {got!r} vs {want!r}"
        for i, (g, w) in enumerate(zip(got, want)):
            assert_same(g, w, f"{where}[{i}]")
    elif isinstance(want, np.ndarray):
        assert isinstance(got, np.ndarray), f"{where}: {type(got).__name__}, expected an array"
        assert got.shape == want.shape and got.dtype == want.dtype, \
            f"{where}: {got.shape} {got.dtype} vs oracle {want.shape} {want.dtype}"
        if want.dtype.kind in "biu":
            np.testing.assert_array_equal(got, want, err_msg=where)
        else:
            np.testing.assert_allclose(got, want, err_msg=where, **tolerance(want.dtype))
    elif want is None or isinstance(want, (int, np.integer)):
        assert got == want, f"{where}: {got!r} vs oracle {want!r}"
    elif isinstance(want, (float, np.floating)):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-300, err_msg=where)
    else:  # an object passed through (the products)
        assert got is want, f"{where}: {got!r} vs oracle {want!r}"


def run_case(kernel, oracle, factory, seed=0):
    """Call ``kernel`` and ``oracle`` on two copies of the case; compare what they return and
    every array argument afterwards (the outputs a kernel writes into)."""
    mine, theirs = factory(np.random.default_rng(seed)), factory(np.random.default_rng(seed))
    assert_same(kernel(*mine), oracle(*theirs))
    for i, (a, b) in enumerate(zip(mine, theirs)):
        if isinstance(a, np.ndarray):
            assert_same(a, b, f"argument {i} after the call")


def kernels() -> dict:
    """Every kernel, "family.name" -> function: each public function (plain Python or
    Numba-compiled) defined in a module of ``minisnip/kernels/`` other than reference.py
    (the oracles) and threads.py (the kernels' thread-count gate, tested in test_threads.py).
    Enumerated, so that a new kernel cannot be forgotten by the oracle tests."""
    import importlib
    import inspect
    import pkgutil

    import minisnip.kernels as package
    found = {}
    for info in pkgutil.iter_modules(package.__path__):
        if info.name in ("reference", "threads"):
            continue
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        for name, obj in vars(module).items():
            python = getattr(obj, "py_func", obj)  # a Numba dispatcher wraps the function
            if (not name.startswith("_") and inspect.isfunction(python)
                    and python.__module__ == module.__name__):
                found[f"{info.name}.{name}"] = obj
    return found


def record_product_paths(monkeypatch) -> set:
    """From now on, the names of the matmul kernels that run are added to the returned set
    ("tiles C^T": the rank-1 tiles computing C transposed, for a narrow C)."""
    paths, inside_transposed = set(), []

    def recording(name, label):
        original = getattr(mm, name)

        def wrapper(*args):
            if not inside_transposed:
                paths.add(label)
            if name == "_tiles_transposed":
                inside_transposed.append(True)
                try:
                    return original(*args)
                finally:
                    inside_transposed.pop()
            return original(*args)
        monkeypatch.setattr(mm, name, wrapper)

    for name, label in (("tiles", "tiles"), ("_tiles_transposed", "tiles C^T"),
                        ("dot_tiles", "dot_tiles"), ("long_k", "long_k")):
        recording(name, label)
    return paths
