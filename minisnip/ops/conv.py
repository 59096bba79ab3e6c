"""Convolution, pooling and batch normalization as Functions (kernels in ``kernels/``)."""
from __future__ import annotations

import numpy as np

from ..autograd import Function
from ..kernels import batchnorm as bn_kernel
from ..kernels import conv as conv_kernel
from ..kernels import pool as pool_kernel
from ..kernels import sparse as sparse_kernel
from ..tensor import Tensor, raw
from . import checks
from .linalg import products


#: The byte budget of one tile's column matrix (im2col's ``cols``, and ``dcols`` in the
#: backward): the convolution runs over the batch in tiles of whole images whose columns fit
#: in it. 32 MiB, measured on VGG-like at batch 128 (2 threads, a loaded 2-core Xeon with a
#: 32 MB L3, benchmarks/bench_conv.py): step peak memory 0.72 / 0.77 / 0.81 GB above the model
#: for 16 / 32 / 64 MiB (1.43 GB untiled); step time with 32 MiB at or below the untiled one,
#: 16 MiB a few percent above, 4 MiB twice (every tile is a few more parallel regions, each a
#: thread wake-up and, on a busy machine, a wait for the slower thread). A tile's columns also
#: stay under glibc's 32 MB mmap threshold (``config.keep_freed_memory``): reused from the heap
#: step after step instead of faulting fresh pages in. Module-level so that tests can force
#: tiny tiles.
COLS_BUDGET_BYTES = 32 * 2 ** 20


def batch_tiles(n: int, bytes_per_image: int, budget: int | None = None) -> list:
    """The batch ``range(n)`` as consecutive ``(start, stop)`` tiles of whole images whose
    columns fit in ``budget`` bytes (default :data:`COLS_BUDGET_BYTES`; always at least one
    image per tile). The tiles are balanced (sizes differ by at most one image), so that no
    tile is a sliver that costs a thread wake-up for little work. They depend on the shapes
    and the budget only, never on the thread count: the sums over tiles are deterministic."""
    budget = COLS_BUDGET_BYTES if budget is None else budget
    largest = max(1, budget // max(1, bytes_per_image))
    count = max(1, -(-n // largest))
    bounds = [n * t // count for t in range(count + 1)]
    return list(zip(bounds[:-1], bounds[1:]))


class Conv2d(Function):
    """``conv2d(x, w, b)``: kernels/conv.py conv2d_forward, conv2d_input_grad, conv2d_weight_grad,
    im2col, over the batch in tiles (:func:`batch_tiles`). Given ``pattern`` (the kept
    connections of a pruned weight, ``kernels.sparse.pattern_from_mask(c)``) it computes
    ``conv2d(x, c * w, b)`` with its three products on the kept connections only:
    kernels/sparse.py sparse_conv2d_forward, sparse_conv2d_input_grad,
    sparse_conv2d_weight_grad (w's entries outside the pattern are never read; their
    gradient is 0).

    The memory of im2col is bounded by tiling: a tile's column matrix (C*KH*KW rows, one
    column per output position of its images) is at most :data:`COLS_BUDGET_BYTES` (or one
    image's), never the whole batch's. The forward keeps no columns: it saves x, and the
    backward recomputes each tile's columns for the weight gradient (one more im2col pass, a
    fraction of the products' time). Per tile the backward computes dL/dx of its images
    (``conv2d_input_grad``: col2im of W^T @ dout) and adds its dL/dW to the sum of the earlier
    tiles, in tile order (the tiles depend on the shapes and the budget, never on the thread
    count: the sum is as deterministic as the kernels). A batch that fits in one tile runs
    exactly as untiled (its columns are then saved: no more than the budget, or one image's
    columns when a single image is over it)."""

    @staticmethod
    def forward(ctx, x, weight, bias, stride, padding, pattern):
        n, c, h, w = x.shape
        kh, kw = weight.shape[2:]
        oh = conv_kernel.output_size(h, kh, stride, padding)
        ow = conv_kernel.output_size(w, kw, stride, padding)
        ctx.tiles = batch_tiles(n, c * kh * kw * oh * ow * x.dtype.itemsize)
        ctx.input_shape = x.shape
        ctx.products = (DenseProducts(weight, stride, padding) if pattern is None else
                        SparseProducts(weight, stride, padding, pattern, x.dtype))
        if len(ctx.tiles) == 1:
            out, cols = ctx.products.forward(x)
            ctx.save_for_backward(cols, x)
        else:
            out = None
            for start, stop in ctx.tiles:
                part, _ = ctx.products.forward(x[start:stop])
                if out is None:
                    out = np.empty((n,) + part.shape[1:], dtype=part.dtype)
                out[start:stop] = part
            ctx.save_for_backward(None, x)
        if bias is not None:
            out += bias[None, :, None, None]
        return out

    @staticmethod
    def backward(ctx, grad):
        cols, x = ctx.saved
        needs, products = ctx.needs_input_grad, ctx.products
        if cols is not None:  # one tile: as untiled
            gx = products.input_grad(grad, ctx.input_shape) if needs[0] else None
            gw = products.weight_grad(grad, cols) if needs[1] else None
        else:
            gx = gw = None
            for start, stop in ctx.tiles:
                g = grad[start:stop]
                if needs[0]:
                    part = products.input_grad(g, x[start:stop].shape)
                    if gx is None:
                        gx = np.empty(ctx.input_shape, dtype=part.dtype)
                    gx[start:stop] = part
                if needs[1]:
                    part = products.weight_grad(g, products.columns(x[start:stop]))
                    if gw is None:
                        gw = part
                    else:
                        gw += part
        gb = grad.sum(axis=(0, 2, 3)) if needs[2] else None
        return gx, gw, gb, None, None, None


class DenseProducts:
    """The three products of a convolution on a batch (or a tile of it), dense: on the
    matmul backend that ``ops/linalg.py`` chose."""

    def __init__(self, weight, stride, padding):
        self.weight, self.stride, self.padding = weight, stride, padding
        self.kh, self.kw = weight.shape[2:]

    def forward(self, x):
        return conv_kernel.conv2d_forward(x, self.weight, self.stride, self.padding,
                                          products())

    def input_grad(self, grad, input_shape):
        return conv_kernel.conv2d_input_grad(grad, self.weight, input_shape, self.stride,
                                             self.padding, products())

    def weight_grad(self, grad, cols):
        return conv_kernel.conv2d_weight_grad(grad, cols, self.weight.shape, products())

    def columns(self, x):
        return conv_kernel.im2col(x, self.kh, self.kw, self.stride, self.padding)


class SparseProducts(DenseProducts):
    """The same products on the kept connections of ``pattern`` only. The kept weights are
    gathered once, for all tiles; x and they are computed in the dtype the dense products
    would give (``np.result_type`` of x and the weight)."""

    def __init__(self, weight, stride, padding, pattern, x_dtype):
        super().__init__(weight, stride, padding)
        self.pattern = pattern
        self.dtype = np.result_type(x_dtype, weight.dtype)
        self.values = sparse_kernel.gather(weight.reshape(weight.shape[0], -1), pattern[0],
                                           pattern[1]).astype(self.dtype, copy=False)

    def forward(self, x):
        return sparse_kernel.sparse_conv2d_forward(
            x.astype(self.dtype, copy=False), self.values, self.pattern[0], self.pattern[1],
            self.kh, self.kw, self.stride, self.padding)

    def input_grad(self, grad, input_shape):
        return sparse_kernel.sparse_conv2d_input_grad(
            grad, self.values, *self.pattern[2:], input_shape, self.kh, self.kw, self.stride,
            self.padding)

    def weight_grad(self, grad, cols):
        return sparse_kernel.sparse_conv2d_weight_grad(grad, cols, self.pattern[0],
                                                       self.pattern[1], self.weight.shape)

    def columns(self, x):
        return super().columns(x.astype(self.dtype, copy=False))


class MaxPool2d(Function):
    """kernels/pool.py max_pool2d_forward / max_pool2d_backward; ``kernel``, ``stride`` and
    ``padding`` are (height, width) pairs."""

    @staticmethod
    def forward(ctx, x, kernel, stride, padding):
        out, argmax = pool_kernel.max_pool2d_forward(x, kernel, stride, padding)
        ctx.argmax, ctx.hw = argmax, x.shape[2:]
        return out

    @staticmethod
    def backward(ctx, grad):
        h, w = ctx.hw
        return (pool_kernel.max_pool2d_backward(np.ascontiguousarray(grad), ctx.argmax, h, w),
                None, None, None)


class AvgPool2d(Function):
    """kernels/pool.py avg_pool2d_forward / avg_pool2d_backward (padding counts as zeros)."""

    @staticmethod
    def forward(ctx, x, kernel, stride, padding):
        ctx.params, ctx.hw = (kernel, stride, padding), x.shape[2:]
        return pool_kernel.avg_pool2d_forward(x, kernel, stride, padding)

    @staticmethod
    def backward(ctx, grad):
        h, w = ctx.hw
        return (pool_kernel.avg_pool2d_backward(np.ascontiguousarray(grad), *ctx.params, h, w),
                None, None, None)


class BatchNorm2d(Function):
    """kernels/batchnorm.py. In training mode the running statistics (NumPy arrays passed as
    options) are updated in place as PyTorch does: running = (1 - momentum) * running +
    momentum * batch, with the unbiased batch variance for the running estimate."""

    @staticmethod
    def forward(ctx, x, gamma, beta, running_mean=None, running_var=None, training=True,
                momentum=0.1, eps=1e-5):
        ctx.training = training
        if not training:
            ctx.save_for_backward(gamma, running_var, eps)
            ctx.shift = running_mean
            ctx.x = x
            return bn_kernel.batch_norm_eval_forward(x, gamma, beta, running_mean, running_var, eps)
        y, xhat, mean, var, inv_std = bn_kernel.batch_norm_train_forward(x, gamma, beta, eps)
        if running_mean is not None:
            m = x.shape[0] * x.shape[2] * x.shape[3]
            running_mean *= 1 - momentum
            running_mean += momentum * mean
            running_var *= 1 - momentum
            running_var += momentum * var * (m / max(m - 1, 1))
        ctx.save_for_backward(xhat, gamma, inv_std)
        return y

    @staticmethod
    def backward(ctx, grad):
        grad = np.ascontiguousarray(grad)
        if not ctx.training:
            gamma, running_var, eps = ctx.saved
            inv = 1.0 / np.sqrt(running_var + eps)
            xhat = (ctx.x - ctx.shift[None, :, None, None]) * inv[None, :, None, None]
            dx = ((grad * (gamma * inv)[None, :, None, None]).astype(grad.dtype, copy=False)
                  if ctx.needs_input_grad[0] else None)
            # running statistics of another dtype than x must not change the gradients' dtype
            return (dx, (grad * xhat).sum(axis=(0, 2, 3)).astype(gamma.dtype, copy=False),
                    grad.sum(axis=(0, 2, 3)).astype(gamma.dtype, copy=False))
        xhat, gamma, inv_std = ctx.saved
        dx, dgamma, dbeta = bn_kernel.batch_norm_train_backward(grad, xhat, gamma, inv_std)
        return dx, dgamma.astype(gamma.dtype), dbeta.astype(gamma.dtype)


# ------------------------------------------------------------ the functions: checks, then apply
def pair(v, name):
    """An int or a pair of ints (height, width), as PyTorch's kernel sizes and strides; ``name``
    is "<op> <argument>" for the error messages."""
    op, _, argument = name.partition(" ")
    return checks.int_pair(v, op, argument or "size")


def _equal_pair(value, op, name, minimum):
    """conv2d's stride or padding: an int or a pair of equal ints (minisnip's convolution
    kernel has one stride and one padding for both directions: unequal ones are refused)."""
    if isinstance(value, str):
        raise ValueError(f"{op}: {name}={value!r} is not implemented in minisnip (an int or a "
                         f"pair of equal ints)")
    h, w = checks.int_pair(value, op, name, minimum)
    if h != w:
        raise ValueError(f"{op}: {name} {value!r}: only equal values in height and width are "
                         f"implemented in minisnip")
    return h


def conv_options(op, stride, padding):
    """conv2d's stride (>= 1) and padding (>= 0) as ints, checked."""
    return _equal_pair(stride, op, "stride", 1), _equal_pair(padding, op, "padding", 0)


def conv2d(x, weight, bias=None, stride=1, padding=0):
    """2-D convolution of x (N, C, H, W) with weight (OC, C, KH, KW), as ``torch.conv2d``
    (``stride`` and ``padding`` equal in both directions; ``dilation`` and ``groups`` 1)."""
    stride, padding = conv2d_arguments(x, weight, bias, stride, padding, "conv2d")
    return Conv2d.apply(x, weight, bias, stride, padding, None)


def conv2d_arguments(x, weight, bias, stride, padding, op) -> tuple:
    """The checks of ``conv2d`` (and ``sparse_conv2d``): shapes, channels, options; returns
    (stride, padding) as ints."""
    sx = checks.tensor_argument(x, op, "input").shape
    sw = checks.tensor_argument(weight, op, "weight").shape
    if len(sx) != 4 or len(sw) != 4:
        raise ValueError(f"{op}: expected input (N, C, H, W) and weight (OC, C, KH, KW), got "
                         f"{sx} and {sw}")
    if sx[1] != sw[1]:
        raise ValueError(f"{op}: input {sx} has {sx[1]} channels, weight {sw} expects {sw[1]}")
    if 0 in sx[1:] or 0 in sw:
        raise ValueError(f"{op}: input {sx} and weight {sw}: only the batch N may be 0")
    stride, padding = conv_options(op, stride, padding)
    if sx[2] + 2 * padding < sw[2] or sx[3] + 2 * padding < sw[3]:
        raise ValueError(f"{op}: kernel {sw[2:]} is larger than the padded input "
                         f"{(sx[2] + 2 * padding, sx[3] + 2 * padding)}")
    if bias is not None and checks.tensor_argument(bias, op, "bias").shape != (sw[0],):
        raise ValueError(f"{op}: bias of shape {raw(bias).shape}, expected ({sw[0]},)")
    return stride, padding


def _is_default(value, default) -> bool:
    """Whether an option is at PyTorch's default (``dilation``: 1 or a pair of ones)."""
    if isinstance(value, (tuple, list)):
        return default == 1 and len(value) in (1, 2) and all(_is_default(v, 1) for v in value)
    if default is None:
        return value is None
    return isinstance(value, (bool, int, np.bool_, np.integer)) and value == default


def pool_options(op, kernel_size, stride, padding, **fixed):
    """PyTorch's pooling options as (kernel, stride, padding) pairs, checked: an int or a
    sequence of one or two ints each; ``stride=None`` (or empty) is the kernel size; padding at
    most half the kernel (PyTorch's rule: every window holds an input cell). ``fixed`` holds the
    options minisnip does not implement, ``name=(value, PyTorch's default)``: anything but the
    default is refused, naming it."""
    for option, (value, default) in fixed.items():
        if not _is_default(value, default):
            raise ValueError(f"{op}: {option}={value!r} is not implemented in minisnip (only "
                             f"PyTorch's default {option}={default!r})")
    kernel = checks.int_pair(kernel_size, op, "kernel_size", minimum=1, single=True)
    if stride is None or (isinstance(stride, (tuple, list)) and len(stride) == 0):
        stride = kernel
    else:
        stride = checks.int_pair(stride, op, "stride", minimum=1, single=True)
    padding = checks.int_pair(padding, op, "padding", minimum=0, single=True)
    if 2 * padding[0] > kernel[0] or 2 * padding[1] > kernel[1]:
        raise ValueError(f"{op}: padding {padding} must be at most half the kernel size {kernel} "
                         f"(as in PyTorch: every window must hold an input cell)")
    return kernel, stride, padding


def _pool_input(op, x, kernel, padding):
    s = checks.tensor_argument(x, op, "input").shape
    if len(s) != 4:
        hint = (": an unbatched (C, H, W) input is not supported, add the batch axis with "
                "x.reshape(1, *x.shape)") if len(s) == 3 else ""
        raise ValueError(f"{op}: expected input (N, C, H, W), got shape {s}{hint}")
    if 0 in s[1:]:
        raise ValueError(f"{op}: input of shape {s} has an empty C, H or W axis (only the batch "
                         f"N may be 0)")
    if s[2] + 2 * padding[0] < kernel[0] or s[3] + 2 * padding[1] < kernel[1]:
        raise ValueError(f"{op}: window {kernel} is larger than the input {s[2:]} padded by "
                         f"{padding}")


def max_pool2d(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """``torch.nn.functional.max_pool2d``: the maximum of each window, padding as -inf.
    ``dilation``, ``ceil_mode`` and ``return_indices`` only at PyTorch's defaults."""
    kernel, stride, padding = pool_options(
        "max_pool2d", kernel_size, stride, padding, dilation=(dilation, 1),
        ceil_mode=(ceil_mode, False), return_indices=(return_indices, False))
    _pool_input("max_pool2d", x, kernel, padding)
    return MaxPool2d.apply(x, kernel, stride, padding)


def avg_pool2d(x, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """``torch.nn.functional.avg_pool2d``: the mean of each window, padding counted as zeros
    (``count_include_pad=True``). ``ceil_mode``, ``count_include_pad`` and
    ``divisor_override`` only at PyTorch's defaults."""
    kernel, stride, padding = pool_options(
        "avg_pool2d", kernel_size, stride, padding, ceil_mode=(ceil_mode, False),
        count_include_pad=(count_include_pad, True), divisor_override=(divisor_override, None))
    _pool_input("avg_pool2d", x, kernel, padding)
    return AvgPool2d.apply(x, kernel, stride, padding)


def global_avg_pool2d(x):
    """(N, C, H, W) -> (N, C): the mean over each channel's plane."""
    if raw(x).ndim != 4:
        raise ValueError(f"global_avg_pool2d: expected (N, C, H, W), got {raw(x).shape}")
    return x.mean(dim=(2, 3))


def adaptive_avg_pool2d(x, output_size):
    if pair(output_size, "adaptive_avg_pool2d output_size") != (1, 1):
        raise ValueError("adaptive_avg_pool2d: only output_size 1 (global pooling) is supported")
    return global_avg_pool2d(x).reshape(raw(x).shape[0], raw(x).shape[1], 1, 1)


def _channel_array(value, op, name, channels):
    """A per-channel array (C,) of batch_norm: a Tensor's array or an array, float32/64."""
    array = checks.tensor_argument(value, op, name)
    if array.shape != (channels,):
        raise ValueError(f"{op}: {name} of shape {array.shape}, expected ({channels},): one per "
                         f"channel of the input")
    return array


def batch_norm(x, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5):
    """``torch.nn.functional.batch_norm`` for (N, C, H, W): statistics per channel; in
    training the running statistics (arrays or Tensors, updated in place) move by
    ``momentum``; in evaluation they normalize. ``weight``/``bias`` None: 1 and 0."""
    s = checks.tensor_argument(x, "batch_norm", "input").shape
    if len(s) != 4:
        raise ValueError(f"batch_norm: expected input (N, C, H, W), got {s}")
    if not isinstance(training, (bool, np.bool_)):
        raise TypeError(f"batch_norm: training must be a bool, got {checks.describe(training)}")
    stats = [None if v is None else _channel_array(v, "batch_norm", name, s[1])
             for v, name in ((running_mean, "running_mean"), (running_var, "running_var"))]
    if not training and any(v is None for v in stats):
        raise ValueError("batch_norm: evaluation (training=False) needs running_mean and "
                         "running_var")
    if (stats[0] is None) != (stats[1] is None):
        raise ValueError("batch_norm: give both running_mean and running_var, or neither")
    momentum = checks.real(momentum, "batch_norm", "momentum", low=0.0, high=1.0)
    eps = checks.real(eps, "batch_norm", "eps", low=0.0)
    dtype = raw(x).dtype
    weight = (Tensor(np.ones(s[1], dtype)) if weight is None else weight)
    bias = (Tensor(np.zeros(s[1], dtype)) if bias is None else bias)
    _channel_array(weight, "batch_norm", "weight", s[1])
    _channel_array(bias, "batch_norm", "bias", s[1])
    if training and s[0] * s[2] * s[3] < 2:
        raise ValueError(f"batch_norm: training needs more than one value per channel, got "
                         f"input of shape {s}")
    return BatchNorm2d.apply(x, weight, bias, running_mean=stats[0], running_var=stats[1],
                             training=bool(training), momentum=momentum, eps=eps)
