"""SynFlow: Tanaka, Kunin, Yamins & Ganguli, "Pruning neural networks without any data by
iteratively conserving synaptic flow" (NeurIPS 2020).

The **synaptic flow** of a network is R = 1^T (prod_l |W_l|) 1: the network with every weight
replaced by its absolute value, fed one all-ones input, its outputs summed. Written out, R is
the sum over every path from an input to an output of the product of the |weights| on the
path. The score of a weight is S = theta * dR/dtheta, the flow through that weight: the sum
of the products of the paths that go through it (tested against the paths enumerated one by
one). No data, no loss, no labels.

**Conservation.** A network that is positively homogeneous of degree 1 in each layer's weights
(linear and convolutional layers, ReLU, max pooling, no biases) satisfies Euler's identity
sum_{j in layer l} S_j = R for every layer l: each layer carries the whole flow, so a layer's
total score does not grow with its size, and removing the lowest scores does not empty a layer
before the others (the paper's layer collapse), provided the scores are re-computed as weights
go: Algorithm 1 prunes in ``rounds`` rounds (100) with the exponential schedule, and a pruned
weight (theta = 0, so S = 0) never comes back.

Choices the paper leaves to the code, made here:

* **float64.** R is a product over all layers; in float32 a deep network's flow overflows (or
  underflows) long before its ranking means anything. The scores are computed on a float64
  copy of the model (tested on a deep narrow network whose float32 flow is inf).
* **Biases and BatchNorm.** Biases and BatchNorm's shifts (beta and the running mean) are set
  to 0, the weights and BatchNorm's scales gamma to their absolute values, and BatchNorm runs
  in eval mode, where it then multiplies each channel by |gamma| / sqrt(running_var + eps), a
  positive scale. So R is exactly the path sum above and the conservation holds exactly. The
  authors' code takes |.| of every parameter and buffer instead, biases included, which adds
  flow that starts at a bias; at initialization (zero biases, beta = 0, running mean 0) the
  two agree. A bias mask (``include_bias``) scores 0: no path starts at a zero bias.
* **Eval mode**, as for every scorer here: in training mode BatchNorm would normalize the one
  all-ones input by its own statistics (variance 0).
* **The input**: one all-ones example shaped like the pruning batch's (only its shape is read).

SynFlow is defined for networks homogeneous in their weights. It runs on any model here, but on
a recurrent network (sigmoid and tanh gates) R is no path sum and no conservation holds.
"""
from __future__ import annotations

import numpy as np

from ..masks import scoring
from ..tensor import Tensor
from .float64 import float64_copy

ROUNDS = 100  # Tanaka et al.: 100 rounds of the exponential schedule


def linearize(model):
    """In place: every weight and scale to its absolute value, every shift to 0 (biases,
    BatchNorm's beta and running mean). The network then computes prod |W| on a positive
    input, and R = 1^T (prod |W_l|) 1. Returns the model."""
    for _, module in model.named_modules():
        for name, p in module._parameters.items():
            if p is not None:
                p.data[...] = 0 if name.startswith("bias") else np.abs(p.data)
        if module._buffers.get("running_mean") is not None:
            module.running_mean.data[...] = 0
    return model


def synaptic_flow(model, keep, input_shape) -> tuple:
    """R and dR/dc of the network pruned by ``keep``, in float64 on a linearized copy.

    Returns ``(R, [dR/dc per layer])``. ``input_shape``: the shape of one example.
    """
    twin = linearize(float64_copy(model))
    ones = Tensor(np.ones((1,) + tuple(input_shape), dtype=np.float64))
    with scoring(twin, at=keep) as layers:              # c = keep, requires grad, eval mode
        flow = twin(ones).sum()                         # R = 1^T (prod |W_l|) 1
        if not np.isfinite(flow.item()):
            raise ValueError(f"SynFlow: the synaptic flow R = {flow.item()} is not finite even "
                             f"in float64; the network is too deep for this computation")
        flow.backward()
        grads = [c.grad.copy() if c.grad is not None else np.zeros(c.shape) for _, c in layers]
    return flow.item(), grads


def synflow_scores(model, batch, rng, loss_fn, keep) -> list:
    """S = theta * dR/dtheta (Tanaka et al., the SynFlow score) of the network pruned by
    ``keep``: the flow through each weight, 0 for a pruned one.

    With theta = c * |w|, dR/dc_j = |w_j| dR/dtheta_j, so S_j = c_j dR/dc_j: one backward
    through the masks, as for SNIP. ``batch``: only the shape of its inputs is read.
    """
    inputs = batch[0] if batch is not None else None
    if inputs is None:
        raise ValueError("SynFlow looks at no data, but it needs the shape of one input: pass "
                         "inputs (only their shape is read)")
    _, grads = synaptic_flow(model, keep, inputs.shape[1:])
    return [k * g for k, g in zip(keep, grads)]
