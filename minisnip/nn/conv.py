"""Convolutional layers: Conv2d (prunable, with its mask c), pooling, BatchNorm2d."""
from __future__ import annotations

import numpy as np

from .. import functional as F
from ..ops import checks
from ..kernels.sparse import CONV_BREAK_EVEN_DENSITY, pattern_from_mask
from ..ops.conv import conv_options, pool_options
from ..ops.sparse import sparse_conv2d
from ..tensor import Tensor
from .module import Module, Parameter
from .sparse import SparseKernelLayer


class Conv2d(SparseKernelLayer, Module):
    """PyTorch's Conv2d computing with ``c * W`` (the paper's Eq. 3), W (out, in, kh, kw).
    After pruning, ``use_sparse_kernel()`` computes its products from the kept connections
    only (``nn/sparse.py``, ``ops.sparse.sparse_conv2d``)."""

    BREAK_EVEN_DENSITY = CONV_BREAK_EVEN_DENSITY  # for use_sparse_kernels("auto")

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, bias=True,
                 dtype=np.float32):
        super().__init__()
        in_channels = checks.integer(in_channels, "Conv2d", "in_channels", minimum=1)
        out_channels = checks.integer(out_channels, "Conv2d", "out_channels", minimum=1)
        kh, kw = checks.int_pair(kernel_size, "Conv2d", "kernel_size", minimum=1)
        conv_options("Conv2d", stride, padding)
        checks.flag(bias, "Conv2d", "bias")
        dtype = checks.float_dtype(dtype, "Conv2d")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size, self.stride, self.padding = (kh, kw), stride, padding
        self.weight = Parameter(np.zeros((out_channels, in_channels, kh, kw), dtype=dtype))
        self.bias = Parameter(np.zeros(out_channels, dtype=dtype)) if bias else None
        self.register_mask("weight")

    @property
    def c(self) -> Tensor:
        return self.weight_mask

    def _kept_connections(self):
        return pattern_from_mask(self.c.data != 0)

    def forward(self, x):
        shape = checks.tensor_argument(x, f"Conv2d({self.in_channels}, {self.out_channels})",
                                       "input").shape
        if len(shape) != 4 or shape[1] != self.in_channels:
            raise ValueError(f"Conv2d({self.in_channels}, {self.out_channels}): expected input "
                             f"(N, {self.in_channels}, H, W), got {tuple(shape)}")
        pattern = self._sparse_now()
        if pattern is not None:  # with conv2d's checks (O(1), as on the dense path)
            return sparse_conv2d(x, self.weight, self.masked("bias"), pattern, self.stride,
                                 self.padding)
        return F.conv2d(x, self.c * self.weight, self.masked("bias"), self.stride, self.padding)

    def extra_repr(self):
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, padding={self.padding}")


class MaxPool2d(Module):
    """PyTorch's MaxPool2d: ``stride`` defaults to ``kernel_size`` (both directions), padding
    is -inf. ``dilation``, ``return_indices`` and ``ceil_mode`` only at PyTorch's defaults
    (anything else is refused here, at construction)."""

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False,
                 ceil_mode=False):
        super().__init__()
        pool_options("MaxPool2d", kernel_size, stride, padding, dilation=(dilation, 1),
                     return_indices=(return_indices, False), ceil_mode=(ceil_mode, False))
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.dilation = padding, dilation
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def forward(self, x):
        return F.max_pool2d(x, self.kernel_size, self.stride, self.padding)

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class AvgPool2d(Module):
    """PyTorch's AvgPool2d: ``stride`` defaults to ``kernel_size`` (both directions), padding
    counts as zeros. ``ceil_mode``, ``count_include_pad`` and ``divisor_override`` only at
    PyTorch's defaults (anything else is refused here, at construction)."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False,
                 count_include_pad=True, divisor_override=None):
        super().__init__()
        pool_options("AvgPool2d", kernel_size, stride, padding, ceil_mode=(ceil_mode, False),
                     count_include_pad=(count_include_pad, True),
                     divisor_override=(divisor_override, None))
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.ceil_mode = padding, ceil_mode
        self.count_include_pad, self.divisor_override = count_include_pad, divisor_override

    def forward(self, x):
        return F.avg_pool2d(x, self.kernel_size, self.stride, self.padding)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveAvgPool2d(Module):
    """Global average pooling (output size 1 only): (N, C, H, W) -> (N, C, 1, 1)."""

    def __init__(self, output_size=1):
        super().__init__()
        self.output_size = output_size

    def forward(self, x):
        return F.adaptive_avg_pool2d(x, self.output_size)


class BatchNorm2d(Module):
    """PyTorch's BatchNorm2d: weight (gamma, 1s), bias (beta, 0s), running_mean, running_var,
    num_batches_tracked. ``momentum=None`` keeps a cumulative average, as PyTorch does.
    ``_init_exempt``: ``nn.init.initialize`` leaves gamma and beta alone."""

    _init_exempt = True

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True,
                 track_running_stats=True, dtype=np.float32):
        super().__init__()
        num_features = checks.integer(num_features, "BatchNorm2d", "num_features", minimum=1)
        checks.real(eps, "BatchNorm2d", "eps", low=0.0)
        if momentum is not None:
            checks.real(momentum, "BatchNorm2d", "momentum", low=0.0, high=1.0)
        for name, value in (("affine", affine), ("track_running_stats", track_running_stats)):
            if value is not True:
                raise ValueError(f"BatchNorm2d: {name}={value!r} is not implemented in minisnip "
                                 f"(only PyTorch's default {name}=True)")
        dtype = checks.float_dtype(dtype, "BatchNorm2d")
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.weight = Parameter(np.ones(num_features, dtype=dtype))
        self.bias = Parameter(np.zeros(num_features, dtype=dtype))
        self.register_buffer("running_mean", np.zeros(num_features, dtype=dtype))
        self.register_buffer("running_var", np.ones(num_features, dtype=dtype))
        self.register_buffer("num_batches_tracked", np.zeros((), dtype=np.int64))

    def forward(self, x):
        shape = checks.tensor_argument(x, f"BatchNorm2d({self.num_features})", "input").shape
        if len(shape) != 4 or shape[1] != self.num_features:
            raise ValueError(f"BatchNorm2d({self.num_features}): expected input "
                             f"(N, {self.num_features}, H, W), got {tuple(shape)}")
        momentum, tracked = self.momentum, int(self.num_batches_tracked.data) + 1
        if self.training and momentum is None:  # PyTorch: a cumulative average of the batches
            momentum = 1.0 / tracked
        out = F.batch_norm(x, self.running_mean.data, self.running_var.data, self.weight,
                           self.bias, self.training, momentum, self.eps)
        if self.training:      # counted once the batch was accepted
            self.num_batches_tracked.data[...] = tracked
        return out

    def extra_repr(self):
        return f"{self.num_features}, eps={self.eps}, momentum={self.momentum}"
