"""The Tensor: a NumPy array, its gradient, and the node of the graph that produced it."""
from __future__ import annotations

import numpy as np

DEFAULT_DTYPE = np.float32


def raw(x):
    """The ndarray inside a Tensor; anything else unchanged. (Not ``getattr(x, "data", x)``:
    a NumPy array has a ``.data`` attribute too, its raw memoryview.)"""
    return x.data if isinstance(x, Tensor) else x


def _as_array(data, dtype=None, op="Tensor", name="data") -> np.ndarray:
    """float32 by default: Python numbers and lists, and float16 arrays, become float32;
    float32 and float64 arrays are kept as they are (float64 for gradient checks). Numbers
    only (bool, int, float): strings, None, ragged lists are refused naming ``op``."""
    data = raw(data)
    from_python = not isinstance(data, (np.ndarray, np.generic))
    try:
        array = np.asarray(data, dtype=dtype)
    except (ValueError, TypeError) as error:
        raise TypeError(f"{op}: {name} must be numbers (a number, a nested list of numbers of "
                        f"one shape, an array) of a number dtype; got {type(data).__name__} "
                        f"with dtype={dtype!r} ({error})") from None
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{op}: {name} must be numbers, got {type(data).__name__} of dtype "
                        f"{array.dtype}")
    if dtype is None and (from_python or array.dtype == np.float16) and array.dtype.kind in "fiub":
        if from_python or array.dtype.kind == "f":
            array = array.astype(DEFAULT_DTYPE)
    return array


class Tensor:
    """An n-dimensional array that remembers how it was computed.

    ``Tensor(array)`` wraps a float32/float64 NumPy array without copying it (like
    ``torch.as_tensor``); ``minisnip.tensor(data)`` always copies.

    ``data``           the NumPy array (float32 by default; float64 is preserved)
    ``grad``           d loss / d self after ``backward()`` (a NumPy array), or None
    ``requires_grad``  whether gradients flow to (and are stored for) this tensor
    """

    __array_priority__ = 100  # so that ndarray + Tensor calls Tensor.__radd__

    def __init__(self, data, requires_grad: bool = False, dtype=None):
        if not isinstance(requires_grad, (bool, np.bool_)):
            raise TypeError(f"Tensor: requires_grad must be a bool, got "
                            f"{type(requires_grad).__name__} {requires_grad!r}")
        data = _as_array(data, dtype)
        if requires_grad and data.dtype.kind != "f":
            raise TypeError(f"only floating-point tensors can require gradients, got dtype {data.dtype}")
        self.data: np.ndarray = data
        self.grad: np.ndarray | None = None
        self.requires_grad = bool(requires_grad)
        self._node = None
        self._retain_grad = False

    # ----------------------------------------------------------------- basics
    @property
    def shape(self) -> tuple:
        return self.data.shape

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def size(self) -> int:
        return self.data.size

    @property
    def T(self) -> "Tensor":
        return self.transpose(-2, -1) if self.ndim >= 2 else self

    @property
    def is_leaf(self) -> bool:
        return self._node is None

    def __len__(self) -> int:
        return len(self.data)

    def __repr__(self) -> str:
        grad = ", requires_grad=True" if self.requires_grad else ""
        body = np.array2string(self.data, precision=4, separator=", ", prefix="tensor(")
        return f"tensor({body}{grad})"

    def numpy(self) -> np.ndarray:
        return self.data

    def item(self) -> float:
        if self.data.size != 1:
            raise ValueError(f"item() needs a tensor with one element, this one has shape {self.shape}")
        return self.data.item()

    def detach(self) -> "Tensor":
        """The same data (shared, not copied) cut from the graph."""
        return Tensor(self.data, requires_grad=False)

    def retain_grad(self) -> "Tensor":
        self._retain_grad = True
        return self

    def requires_grad_(self, flag: bool = True) -> "Tensor":
        if flag and self.data.dtype.kind != "f":
            raise TypeError(f"only floating-point tensors can require gradients, got dtype {self.dtype}")
        self.requires_grad = flag
        return self

    def zero_grad(self) -> None:
        self.grad = None

    def astype(self, dtype) -> "Tensor":
        return Tensor(self.data.astype(dtype), requires_grad=self.requires_grad)

    def float(self) -> "Tensor":
        return self.astype(np.float32)

    def double(self) -> "Tensor":
        return self.astype(np.float64)

    # --------------------------------------------------------------- backward
    def backward(self, gradient=None, retain_graph: bool = False) -> None:
        """Compute d self / d leaf for every leaf that requires grad (Eq. 5 uses this with c).

        The graph's saved arrays are freed on the way; ``retain_graph=True`` keeps them for a
        second backward (as in PyTorch)."""
        if not isinstance(retain_graph, (bool, np.bool_)):
            raise TypeError(f"backward: retain_graph must be a bool, got "
                            f"{type(retain_graph).__name__} {retain_graph!r}")
        if not self.requires_grad:
            raise RuntimeError("backward() on a tensor that does not require grad: no input of "
                               "the computation had requires_grad=True (or it ran under no_grad)")
        if gradient is None:
            if self.data.size != 1:
                raise RuntimeError(
                    f"backward() without a gradient needs a scalar, this tensor has shape "
                    f"{self.shape}; pass gradient= of that shape (d loss / d this tensor)")
            gradient = np.ones_like(self.data)
        else:
            if not isinstance(gradient, (Tensor, np.ndarray, np.generic, int, float)):
                raise TypeError(f"backward: gradient must be a Tensor or an array of shape "
                                f"{self.shape}, got {type(gradient).__name__}")
            gradient = _as_array(gradient, self.dtype, "backward", "gradient")
            if gradient.shape != self.shape:
                raise ValueError(f"backward(): gradient of shape {gradient.shape} given for a "
                                 f"tensor of shape {self.shape}; they must match")
        autograd.backward(self, gradient, retain_graph)

    # ------------------------------------------------------------- operators
    def __add__(self, other): return _ops.add(self, other)
    def __radd__(self, other): return _ops.add(other, self)
    def __sub__(self, other): return _ops.sub(self, other)
    def __rsub__(self, other): return _ops.sub(other, self)
    def __mul__(self, other): return _ops.mul(self, other)
    def __rmul__(self, other): return _ops.mul(other, self)
    def __truediv__(self, other): return _ops.div(self, other)
    def __rtruediv__(self, other): return _ops.div(other, self)
    def __neg__(self): return _ops.neg(self)
    def __pow__(self, exponent): return _ops.pow(self, exponent)
    def __matmul__(self, other): return _ops.matmul(self, other)
    def __rmatmul__(self, other): return _ops.matmul(other, self)
    def __getitem__(self, index): return _ops.getitem(self, index)

    # comparisons give plain boolean arrays: they are not differentiable
    def __lt__(self, other): return self.data < raw(other)
    def __le__(self, other): return self.data <= raw(other)
    def __gt__(self, other): return self.data > raw(other)
    def __ge__(self, other): return self.data >= raw(other)

    # --------------------------------------------------------------- methods
    def exp(self): return _ops.exp(self)
    def log(self): return _ops.log(self)
    def relu(self): return _ops.relu(self)
    def tanh(self): return _ops.tanh(self)
    def sigmoid(self): return _ops.sigmoid(self)
    def abs(self): return _ops.abs(self)
    def sum(self, dim=None, keepdim=False): return _ops.sum(self, dim, keepdim)
    def mean(self, dim=None, keepdim=False): return _ops.mean(self, dim, keepdim)
    def max(self, dim=None, keepdim=False): return _ops.max(self, dim, keepdim)
    def min(self, dim=None, keepdim=False): return _ops.min(self, dim, keepdim)
    def amax(self, dim=None, keepdim=False): return _ops.amax(self, dim, keepdim)
    def amin(self, dim=None, keepdim=False): return _ops.amin(self, dim, keepdim)
    def reshape(self, *shape): return _ops.reshape(self, *shape)
    def view(self, *shape): return _ops.reshape(self, *shape)
    def flatten(self, start_dim=0, end_dim=-1): return _ops.flatten(self, start_dim, end_dim)
    def transpose(self, dim0, dim1): return _ops.transpose(self, dim0, dim1)
    def permute(self, *dims): return _ops.permute(self, *dims)
    def matmul(self, other): return _ops.matmul(self, other)


def tensor(data, requires_grad: bool = False, dtype=None) -> Tensor:
    """Make a Tensor holding a copy of ``data``, like ``torch.tensor``."""
    data = raw(data)
    if isinstance(data, np.ndarray):
        data = data.copy()
    return Tensor(data, requires_grad=requires_grad, dtype=dtype)


# The one upward reach of the package (tests/test_imports.py allows exactly this): Tensor's
# methods are thin forwards, ``backward()`` to the graph walk in autograd.py and the operators
# and named methods (``a + b``, ``x.sum()``) to the ops, which build on Tensor. Imported here,
# at the end, because both need Tensor defined first.
from . import autograd, ops as _ops  # noqa: E402
