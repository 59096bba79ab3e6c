"""log_softmax and the fused, numerically stable softmax cross-entropy."""
from __future__ import annotations

import numpy as np

from ..autograd import Function
from ..tensor import raw
from . import checks


def _log_softmax(x: np.ndarray, axis: int) -> np.ndarray:
    if x.shape[axis] == 0:     # nothing to normalize (the maximum of nothing is undefined)
        return x.copy()
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


class LogSoftmax(Function):
    @staticmethod
    def forward(ctx, x, dim):
        out = _log_softmax(x, dim)
        ctx.save_for_backward(out)
        ctx.dim = dim
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved
        return grad - np.exp(out) * grad.sum(axis=ctx.dim, keepdims=True), None


class CrossEntropy(Function):
    """Mean over the batch of ``-log softmax(logits)[i, target_i]``, in one Function.

    Forward: log-sum-exp with the row maximum subtracted (no overflow). Backward: the classic
    ``(softmax - onehot) / N``, which never forms the log-softmax Jacobian.
    """

    @staticmethod
    def forward(ctx, logits, targets):
        n = logits.shape[0]
        logp = _log_softmax(logits, 1)
        ctx.save_for_backward(logp, targets)
        return np.asarray(-logp[np.arange(n), targets].mean(), dtype=logits.dtype)

    @staticmethod
    def backward(ctx, grad):
        logp, targets = ctx.saved
        n = logp.shape[0]
        g = np.exp(logp)
        g[np.arange(n), targets] -= 1
        g *= grad / n
        return g, None


# ------------------------------------------------------------ the functions: checks, then apply
def log_softmax(x, dim=-1):
    ndim = checks.tensor_argument(x, "log_softmax", "input").ndim
    dim = checks.integer(dim, "log_softmax", "dim")
    if ndim == 0:
        raise ValueError("log_softmax: the input is 0-d; expected at least one dimension")
    if not -ndim <= dim < ndim:
        raise ValueError(f"log_softmax: dim {dim} is out of range for a tensor of shape "
                         f"{raw(x).shape} (expected -{ndim} <= dim < {ndim})")
    return LogSoftmax.apply(x, dim % ndim)


def cross_entropy(logits, targets):
    """Mean softmax cross-entropy of ``logits`` (N, C) against integer class ``targets`` (N,)."""
    z = checks.tensor_argument(logits, "cross_entropy", "logits")
    t = np.asarray(raw(targets))
    if z.ndim != 2:
        raise ValueError(f"cross_entropy: logits must be (batch, classes), got shape {z.shape}")
    if t.shape != (z.shape[0],):
        raise ValueError(f"cross_entropy: targets must have shape ({z.shape[0]},) to match "
                         f"logits {z.shape}, got {t.shape}")
    if t.dtype.kind not in "iu":
        raise TypeError(f"cross_entropy: targets must be integer class indices, got dtype {t.dtype}")
    if t.size and (t.min() < 0 or t.max() >= z.shape[1]):
        raise ValueError(f"cross_entropy: targets must be in [0, {z.shape[1]}), got values "
                         f"from {t.min()} to {t.max()}")
    return CrossEntropy.apply(logits, t)
