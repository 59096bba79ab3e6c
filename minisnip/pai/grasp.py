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
one mini-batch (the pruning batch, as every method here; the authors sample ten examples per
class); eval mode, as every scorer here.

**The Hessian-gradient product** is a central difference of two gradients (the engine does not
differentiate its own backward), in float64 on a copy of the model. A ReLU network is only
piecewise smooth: if the step moves a ReLU's input (or a max-pooling winner) across its kink,
the gradient jumps and the difference is garbage, silently (on LeNet-300-100 a step of
u^(1/3), the textbook choice for smooth functions, gave first-layer scores 80 times too
large). Inside one linear piece the loss is smooth (the softmax) and a small step is exact to
rounding, so the step is small, and halved until two successive estimates agree: a crossed
kink makes them differ wildly. Tested against the exact Hessian of small smooth networks and
against PyTorch's double backward (when installed) on ReLU and max-pooling networks, one with
a ReLU input a hair away from its kink.
"""
from __future__ import annotations

import numpy as np

from .. import functional as F
from ..masks import prunable, write
from ..tensor import Tensor
from .float64 import float64_copy

TEMPERATURE = 200.0  # part of the protocol, as the iterative methods' rounds (iterative.py)
# The first step moves theta by 1e-7 of its size: rounding then costs about 1e-9 of H g in
# float64, and the truncation error O(step^2) is below that. Halved until two successive
# estimates agree to AGREEMENT (relative, in norm), at most HALVINGS times.
FIRST_STEP = 1e-7
AGREEMENT = 1e-6
HALVINGS = 12


def grasp_scores(model, batch, rng=None, loss_fn=None, temperature: float = TEMPERATURE) -> list:
    """theta * (H g) for every prunable weight (= -S(-theta) of Eq. 8): larger = keep."""
    theta, _, hg = hessian_gradient_product(model, *batch, loss_fn=loss_fn,
                                            temperature=temperature)
    return [t * h for t, h in zip(theta, hg)]


def hessian_gradient_product(model, inputs, targets, loss_fn=None,
                             temperature: float = TEMPERATURE) -> tuple:
    """``(theta, g, H g)`` for the prunable weights theta, in float64, of the loss
    L(theta) = loss_fn(f(x; theta) / T, y) (cross-entropy by default) at c = 1, eval mode.

    H g = [g(theta + h g) - g(theta - h g)] / (2 h), the step h g first of norm
    ``FIRST_STEP * (1 + |theta|)``, then halved until two successive estimates agree (see the
    module's docstring: kinks). The model is not changed.
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
    g_norm = _norm(g)
    if g_norm == 0:
        return theta, g, [np.zeros_like(gj) for gj in g]

    def central_difference(h):                      # [g(theta + h g) - g(theta - h g)] / 2h
        for w, t, gj in zip(weights, theta, g):
            w.data[...] = t + h * gj
        plus = gradient()
        for w, t, gj in zip(weights, theta, g):
            w.data[...] = t - h * gj
        minus = gradient()
        for w, t in zip(weights, theta):
            w.data[...] = t
        return [(p - m) / (2 * h) for p, m in zip(plus, minus)]

    h = FIRST_STEP * (1 + _norm(theta)) / g_norm
    hg = central_difference(h)
    for _ in range(HALVINGS):
        h /= 2
        finer = central_difference(h)
        gap = _norm([a - b for a, b in zip(hg, finer)])
        hg = finer
        if gap <= AGREEMENT * _norm(finer):
            return theta, g, hg
    raise ValueError(f"GraSP: the Hessian-gradient product by finite differences did not settle "
                     f"after {HALVINGS} halvings of the step (a ReLU input or a max-pooling "
                     f"winner sits at its kink, so the gradient jumps however small the step)")


def _norm(arrays) -> float:
    return float(np.sqrt(sum(float(np.sum(a * a)) for a in arrays)))


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
