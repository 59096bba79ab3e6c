"""Reverse-mode automatic differentiation: Function, Context, the graph walk, no_grad.

A differentiable op is one subclass of :class:`Function` with ``forward`` and ``backward``
written side by side. ``forward`` receives plain NumPy arrays (never Tensors) and returns one
array; ``backward`` receives the gradient of the loss with respect to that output and returns
one gradient (or ``None``) per positional input of ``forward``.

``Function.apply`` is the only place where Tensors are unwrapped and wrapped again and where
the graph is recorded; ``backward`` walks it iteratively (no recursion limit) in reverse
topological order, summing the gradients of a tensor that is used more than once (``a + a``).
"""
from __future__ import annotations

import contextlib
import os
import sys
import time

import numpy as np

_grad_enabled = True
_DEBUG = os.environ.get("MINISNIP_DEBUG", "") not in ("", "0")


def is_grad_enabled() -> bool:
    return _grad_enabled


@contextlib.contextmanager
def no_grad():
    """Inside this block no graph is recorded (evaluation, optimizer updates)."""
    global _grad_enabled
    previous = _grad_enabled
    _grad_enabled = False
    try:
        yield
    finally:
        _grad_enabled = previous


@contextlib.contextmanager
def enable_grad():
    global _grad_enabled
    previous = _grad_enabled
    _grad_enabled = True
    try:
        yield
    finally:
        _grad_enabled = previous


def set_debug(on: bool = True) -> None:
    """Print every op with its input/output shapes and time (same as ``MINISNIP_DEBUG=1``)."""
    global _DEBUG
    _DEBUG = bool(on)


def unbroadcast(grad: np.ndarray, shape: tuple) -> np.ndarray:
    """Sum ``grad`` down to ``shape``: the one place where NumPy broadcasting is undone.

    If ``x`` of ``shape`` was broadcast to ``grad.shape`` in the forward pass, every copy of
    an entry received a gradient, and the entry's gradient is their sum.
    """
    if grad.shape == tuple(shape):
        return grad
    extra = grad.ndim - len(shape)
    if extra > 0:
        grad = grad.sum(axis=tuple(range(extra)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    return grad.reshape(shape)


class Context:
    """What a Function's forward leaves for its backward.

    ``needs_input_grad[i]`` tells backward whether input ``i`` wants a gradient, so that work
    for constants (a mask ``c`` that does not require grad, integer targets) can be skipped.
    Everything saved (``save_for_backward`` and any attribute) is freed once the backward has
    used it, unless the graph is retained (``backward(retain_graph=True)``).
    """

    __slots__ = ("needs_input_grad", "saved", "freed", "__dict__")

    def __init__(self, needs_input_grad: tuple):
        self.needs_input_grad = needs_input_grad
        self.saved = ()
        self.freed = False

    def save_for_backward(self, *arrays) -> None:
        self.saved = arrays

    def free(self) -> None:
        """Drop what the forward saved: the memory goes back before the graph does."""
        self.saved = ()
        self.__dict__.clear()
        self.freed = True


class Node:
    """One recorded application of a Function: the edge list of the graph."""

    __slots__ = ("function", "ctx", "parents")

    def __init__(self, function, ctx, parents):
        self.function = function
        self.ctx = ctx
        self.parents = parents

    def release(self) -> None:
        """After its backward: free what the forward saved and let go of the inputs, so that
        intermediate results no longer referenced elsewhere are freed too."""
        self.ctx.free()
        self.parents = ()


class Function:
    """Base class of every differentiable op. Subclasses define two static methods:

    ``forward(ctx, *inputs, **options) -> np.ndarray``
    ``backward(ctx, grad_output) -> tuple`` with one entry (array or None) per input.
    """

    @staticmethod
    def forward(ctx, *inputs, **options):  # pragma: no cover - abstract
        raise NotImplementedError

    @staticmethod
    def backward(ctx, grad_output):  # pragma: no cover - abstract
        raise NotImplementedError

    @classmethod
    def apply(cls, *inputs, **options):
        from .tensor import Tensor, raw

        arrays = [raw(x) for x in inputs]
        needs = tuple(isinstance(x, Tensor) and x.requires_grad for x in inputs)
        record = _grad_enabled and any(needs)
        ctx = Context(needs)
        if _DEBUG:
            start = time.perf_counter()
        out = cls.forward(ctx, *arrays, **options)
        if _DEBUG:
            _debug_line(cls.__name__, "forward", arrays, out, start)
        result = Tensor(out, requires_grad=record)
        if record:
            parents = tuple(x if isinstance(x, Tensor) and x.requires_grad else None for x in inputs)
            result._node = Node(cls, ctx, parents)
        return result


def _shape_of(x):
    return tuple(x.shape) if isinstance(x, np.ndarray) else type(x).__name__


def _debug_line(name, phase, inputs, output, start):
    ms = (time.perf_counter() - start) * 1e3
    ins = ", ".join(str(_shape_of(x)) for x in inputs)
    print(f"[minisnip] {name:>18s} {phase:8s} ({ins}) -> {_shape_of(output)}  {ms:8.3f} ms",
          file=sys.stderr)


def _topological_order(root):
    """Tensors reachable from ``root`` that require grad, parents before children.

    Iterative depth-first search with an explicit stack, so a graph thousands of ops deep
    (a long recurrence written with Python ops) does not hit Python's recursion limit.
    """
    order, visited = [], set()
    stack = [(root, False)]
    while stack:
        tensor, expanded = stack.pop()
        if expanded:
            order.append(tensor)
            continue
        if id(tensor) in visited:
            continue
        visited.add(id(tensor))
        stack.append((tensor, True))
        node = tensor._node
        if node is not None:
            for parent in node.parents:
                if parent is not None and id(parent) not in visited:
                    stack.append((parent, False))
    return order


def _new_array(g: np.ndarray, incoming: np.ndarray, returned: tuple, saved: tuple,
               ctx) -> bool:
    """Whether ``g``, a gradient a backward returned, is an array that nothing else holds:
    it owns its memory (NumPy's or a Numba kernel's) and is neither the incoming gradient,
    nor one of the node's saved arrays or attributes, nor returned for two inputs. Such an array can become a leaf's ``.grad`` as it
    is; anything else is copied first (a leaf's gradient must not change when another array
    does)."""
    if g is incoming or (g.base is not None and type(g.base).__name__ != "_MemInfo"):
        return False  # (an array a Numba kernel returned has its memory in a _MemInfo base)
    if sum(1 for r in returned if r is g) > 1:
        return False
    return not any(g is s for s in saved) and not any(g is v for v in vars(ctx).values())


def backward(root, grad_output: np.ndarray, retain_graph: bool = False) -> None:
    """Propagate ``grad_output`` (d loss / d root) to every leaf that requires grad.

    Leaves accumulate into ``.grad`` (as in PyTorch, call ``zero_grad`` between steps);
    interior tensors get ``.grad`` only if ``retain_grad()`` was called on them.

    Each node's saved arrays are freed once its backward has run, unless ``retain_graph``:
    a second backward through the same graph is then an error, as in PyTorch, instead of
    silently doubling the gradients. (PyTorch lets a second pass through nodes that saved
    nothing, a graph of additions; minisnip refuses every second pass: one rule.)

    Gradients come back in each input's dtype. Where the forward promoted (a float32 input
    in a float64 result), the gradient is cast back, as PyTorch does; an op whose inputs and
    output share a dtype must return gradients of that dtype, or this raises (a float64
    constant in a float32 backward costs twice the time and would hide behind a cast).
    """
    grads = {id(root): grad_output}
    owned = set()  # ids of tensors whose pending gradient is a new array nothing else holds
    for tensor in reversed(_topological_order(root)):
        grad = grads.pop(id(tensor), None)
        if grad is None:
            continue
        node = tensor._node
        if node is None or tensor._retain_grad:
            if tensor.grad is not None:
                tensor.grad = tensor.grad + grad
            elif id(tensor) in owned and node is None:
                tensor.grad = grad  # a leaf takes a new array as it is: no copy per step
            else:
                tensor.grad = grad.copy()
        owned.discard(id(tensor))
        if node is None:
            continue
        name = node.function.__name__
        if node.ctx.freed:
            raise RuntimeError(
                f"{name}.backward: trying to backward through the graph a second time; its "
                f"saved arrays were freed by the first backward(). Call backward("
                f"retain_graph=True) the first time if you need to (as in PyTorch), or run "
                f"the forward again.")
        if _DEBUG:
            start = time.perf_counter()
        input_grads = node.function.backward(node.ctx, grad)
        if not isinstance(input_grads, tuple):
            input_grads = (input_grads,)
        if _DEBUG:
            _debug_line(name, "backward", [grad], input_grads[0], start)
        if len(input_grads) != len(node.parents):
            raise RuntimeError(
                f"{name}.backward returned {len(input_grads)} gradients "
                f"for {len(node.parents)} inputs")
        for parent, g in zip(node.parents, input_grads):
            if parent is None or g is None:
                continue
            if g.shape != parent.data.shape:
                raise RuntimeError(
                    f"{name}.backward returned a gradient of shape "
                    f"{g.shape} for an input of shape {parent.data.shape}")
            if g.dtype != parent.data.dtype:
                if parent.data.dtype == tensor.data.dtype:
                    raise RuntimeError(
                        f"{name}.backward returned a {g.dtype} gradient for a "
                        f"{parent.data.dtype} input whose output is {tensor.data.dtype} too: "
                        f"an op must return its gradients in its inputs' dtype")
                g = g.astype(parent.data.dtype)  # the forward promoted this input (a new array)
            key = id(parent)
            if key in grads:
                grads[key] = grads[key] + g
                owned.add(key)
            else:
                grads[key] = g
                if _new_array(g, grad, input_grads, node.ctx.saved, node.ctx):
                    owned.add(key)
        if not retain_graph:
            node.release()
