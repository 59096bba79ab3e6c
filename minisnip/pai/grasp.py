"""GraSP: Wang, Zhang & Grosse, "Picking Winning Tickets Before Training by Preserving Gradient
Flow" (ICLR 2020).

SNIP keeps the weights whose removal would change the loss most; GraSP keeps those whose
removal would shrink the *gradient flow* G = g^T g (g = dL/dtheta) most, so that the pruned
network still trains. Removing weights is the perturbation delta = -theta on them, and to first
order G(theta + delta) - G(theta) = 2 delta^T H g with H the Hessian of L. Per weight, the paper
scores

    S(-theta) = -theta * (H g)                                  (Eq. 8, the factor 2 dropped)

and **removes the weights with the largest S**: removing them reduces the gradient flow the
least (or increases it). Here larger means keep, so the score returned is

    -S(-theta) = theta * (H g)          and the kappa largest are kept,

the same mask as the paper's. The score is signed: inverting it (the ``-inverted`` sanity
check) negates it, never takes 1/x (which does not reverse a signed ranking).

Details from the authors' code, kept: the loss is the cross-entropy of the logits divided by a
softmax temperature T = 200 (a flatter softmax, whose gradient and Hessian are less dominated
by a few confident examples), for g and for H g; g and H are taken with respect to the
prunable weights only (biases and BatchNorm parameters are constants). Choices made here:
the Hessian-gradient product is a central difference of two gradients (the engine does not
differentiate its own backward), in float64 on a copy of the model (tested against the exact
Hessian of small networks); one mini-batch (the pruning batch, as every method here; the
authors sample ten examples per class); eval mode, as every scorer here.
"""
from __future__ import annotations

import numpy as np

from .. import functional as F
from ..masks import prunable, write
from ..tensor import Tensor
from .float64 import float64_copy

TEMPERATURE = 200.0
# Central differences have error O(h^2) from the third derivative and O(u / h) from rounding
# (u = 2.2e-16): the two balance at h ~ u^(1/3), scaled by the size of theta.
_CUBE_ROOT_EPS = np.finfo(np.float64).eps ** (1 / 3)


def grasp_scores(model, batch, rng=None, loss_fn=None, temperature: float = TEMPERATURE) -> list:
    """theta * (H g) for every prunable weight (= -S(-theta) of Eq. 8): larger = keep."""
    theta, _, hg = hessian_gradient_product(model, *batch, loss_fn=loss_fn,
                                            temperature=temperature)
    return [t * h for t, h in zip(theta, hg)]


def hessian_gradient_product(model, inputs, targets, loss_fn=None,
                             temperature: float = TEMPERATURE) -> tuple:
    """``(theta, g, H g)`` for the prunable weights theta, in float64, of the loss
    L(theta) = loss_fn(f(x; theta) / T, y) (cross-entropy by default) at c = 1, eval mode.

    H g = [g(theta + h g) - g(theta - h g)] / (2 h), with the step h = u^(1/3) (1 + |theta|)
    / |g| (norms over all prunable weights). The model is not changed.
    """
    if inputs is None or targets is None:
        raise ValueError("GraSP looks at data: pass inputs and targets (one mini-batch)")
    loss_fn = loss_fn or F.cross_entropy
    twin = float64_copy(model)
    weights = _weights_requiring_grad(twin)
    x = np.asarray(inputs.data if isinstance(inputs, Tensor) else inputs, dtype=np.float64)

    def gradient():
        for w in weights:
            w.grad = None
        loss = loss_fn(twin(Tensor(x)) / temperature, targets)
        if not np.isfinite(loss.item()):
            raise ValueError(f"GraSP: the loss is {loss.item()}; check the inputs and the "
                             f"initialization")
        loss.backward()
        return [w.grad.copy() if w.grad is not None else np.zeros(w.shape) for w in weights]

    theta = [w.data.copy() for w in weights]
    g = gradient()
    g_norm = np.sqrt(sum(float(np.sum(gj * gj)) for gj in g))
    if g_norm == 0:
        return theta, g, [np.zeros_like(gj) for gj in g]
    h = _CUBE_ROOT_EPS * (1 + np.sqrt(sum(float(np.sum(t * t)) for t in theta))) / g_norm
    for w, t, gj in zip(weights, theta, g):
        w.data[...] = t + h * gj
    plus = gradient()
    for w, t, gj in zip(weights, theta, g):
        w.data[...] = t - h * gj
    minus = gradient()
    hg = [(p - m) / (2 * h) for p, m in zip(plus, minus)]
    return theta, g, hg


def _weights_requiring_grad(twin) -> list:
    """On the scratch copy: eval mode, every mask at 1, only the prunable weights require
    grad (a backward then gives dL/dtheta for them alone)."""
    twin.eval()
    for p in twin.parameters():
        p.requires_grad = False
    weights = []
    for _, w, c in prunable(twin):
        write(c, 1)
        c.requires_grad = False
        w.requires_grad = True
        weights.append(w)
    return weights
