"""Fused, mask-aware optimizer updates: one pass over a parameter instead of the
five or six NumPy passes (and temporaries) that the update formulas take when written with
array operations. The formulas are PyTorch's (see ``minisnip/optim.py``).

Performance contract: one serial pass, O(size) time, no temporaries; memory-bound. On
LeNet-300-100 the serial pass takes a third of the time of the NumPy formulas; a ``prange``
version saved a little more on its own but made the whole step slower with the BLAS backend
(its threads colliding with OpenBLAS's still-spinning workers), so the kernels are serial.

``mask`` is the SNIP mask ``c`` (entries 0 or 1) flattened, or an empty array for a parameter
that is not prunable. A kept entry (c = 1) gets PyTorch's update; a pruned one (c = 0) is set
to weight 0, momentum buffer 0 and Adam moments 0, whatever it held (a weight that was masked
without being zeroed, optimizer state from before pruning, even NaN): zero by construction,
not by hoping that weight decay and old state are 0 there. (The branch on c measured no
slower than multiplying by c.)

``sgd_step_kept`` and ``adam_step_kept`` are the same updates restricted to a list of kept
flat indices: O(kept) instead of O(size), for a mask that is frozen (its layer computes on the
sparse kernel). There the pruned entries' weight, gradient and state are already 0 (the
optimizer zeroes them with one full pass when it first sees the mask, and the gradient of a
pruned weight is 0 on both the sparse and the dense path, since d(c w)/dw = c), so skipping
them changes nothing.
"""
from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def sgd_step(w, g, buf, mask, lr, momentum, dampening, weight_decay, nesterov, first):
    """In place on the flat arrays w, buf, for each kept entry: d = g + wd w;
    b = mu b + (1 - damp) d (b = d on the first step); w = w - lr (d + mu b if nesterov
    else b); without momentum w = w - lr d. Pruned entries: w = b = 0."""
    masked = mask.size > 0
    for i in range(w.size):
        if masked and mask[i] == 0.0:
            w[i] = 0.0
            if momentum != 0.0:
                buf[i] = 0.0
            continue
        d = g[i] + weight_decay * w[i]
        if momentum != 0.0:
            b = d if first else momentum * buf[i] + (1.0 - dampening) * d
            buf[i] = b
            d = d + momentum * b if nesterov else b
        w[i] = w[i] - lr * d


@njit(cache=True)
def adam_step(w, g, m, v, mask, lr, beta1, beta2, eps, weight_decay, step):
    """In place on the flat arrays w, m, v (PyTorch's Adam with L2 weight decay), for each
    kept entry: d = g + wd w; m = b1 m + (1 - b1) d; v = b2 v + (1 - b2) d^2;
    w = w - lr / (1 - b1^t) * m / (sqrt(v / (1 - b2^t)) + eps). Pruned entries:
    w = m = v = 0."""
    masked = mask.size > 0
    bc1 = 1.0 - beta1 ** step
    bc2 = 1.0 - beta2 ** step
    step_size = lr / bc1
    for i in range(w.size):
        if masked and mask[i] == 0.0:
            w[i] = m[i] = v[i] = 0.0
            continue
        d = g[i] + weight_decay * w[i]
        mi = beta1 * m[i] + (1.0 - beta1) * d
        vi = beta2 * v[i] + (1.0 - beta2) * d * d
        m[i] = mi
        v[i] = vi
        w[i] = w[i] - step_size * mi / (np.sqrt(vi / bc2) + eps)


@njit(cache=True)
def sgd_step_kept(w, g, buf, kept, lr, momentum, dampening, weight_decay, nesterov, first):
    """``sgd_step`` on the flat indices ``kept`` only (the pruned entries are left at 0)."""
    for q in range(kept.size):
        i = kept[q]
        d = g[i] + weight_decay * w[i]
        if momentum != 0.0:
            b = d if first else momentum * buf[i] + (1.0 - dampening) * d
            buf[i] = b
            d = d + momentum * b if nesterov else b
        w[i] = w[i] - lr * d


@njit(cache=True)
def adam_step_kept(w, g, m, v, kept, lr, beta1, beta2, eps, weight_decay, step):
    """``adam_step`` on the flat indices ``kept`` only (the pruned entries are left at 0)."""
    bc1 = 1.0 - beta1 ** step
    bc2 = 1.0 - beta2 ** step
    step_size = lr / bc1
    for q in range(kept.size):
        i = kept[q]
        d = g[i] + weight_decay * w[i]
        mi = beta1 * m[i] + (1.0 - beta1) * d
        vi = beta2 * v[i] + (1.0 - beta2) * d * d
        m[i] = mi
        v[i] = vi
        w[i] = w[i] - step_size * mi / (np.sqrt(vi / bc2) + eps)
