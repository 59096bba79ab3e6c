"""Pruning criteria beside SNIP, each one small function with the same signature:

    pruner(model, inputs, targets, kappa, rng, loss_fn=None) -> list of boolean keep-masks

one mask per prunable layer in ``model.named_masks()`` order, exactly ``kappa`` True in all.
``snip.prune(model, ..., method=NAME)`` looks the function up in ``PRUNERS``.

The sanity checks are those of Frankle et al., "Pruning Neural Networks at Initialization:
Why Are We Missing the Mark?" (ICLR 2021): if a method's masks carry information, shuffling
them within each layer, re-initializing the kept weights, or inverting the scores should hurt.
"""
from __future__ import annotations

import numpy as np

from .snip import connection_sensitivity, top_kappa


def _weights(model):
    return [w for _, w, _ in model.named_masks()]


def snip(model, inputs, targets, kappa, rng, loss_fn=None):
    """The paper: keep the kappa largest connection sensitivities s = |g| / sum|g| (Eq. 6-7)."""
    return top_kappa(connection_sensitivity(model, inputs, targets, loss_fn).s, kappa)


def random(model, inputs, targets, kappa, rng, loss_fn=None):
    """Keep kappa connections chosen uniformly at random over the whole network."""
    return top_kappa([rng.random(w.shape) for w in _weights(model)], kappa)


def magnitude(model, inputs, targets, kappa, rng, loss_fn=None):
    """Keep the kappa largest |w| at initialization (global, no data needed)."""
    return top_kappa([np.abs(w.data) for w in _weights(model)], kappa)


def snip_shuffled(model, inputs, targets, kappa, rng, loss_fn=None):
    """SNIP's per-layer counts, but which connections within a layer are kept is random."""
    return [rng.permutation(m.ravel()).reshape(m.shape)
            for m in snip(model, inputs, targets, kappa, rng, loss_fn)]


def snip_reinit(model, inputs, targets, kappa, rng, loss_fn=None, scheme=None):
    """SNIP's mask, then fresh weights for every prunable weight, drawn with ``rng`` from the
    initialization ``scheme`` (default: ``model.init_scheme`` if the model records one, else
    "vs-x", the protocol's Glorot normal). Biases are left as they are (zero at init)."""
    from .nn.init import sample
    scheme = scheme or getattr(model, "init_scheme", None) or "vs-x"
    masks = snip(model, inputs, targets, kappa, rng, loss_fn)
    for _, module in model.named_modules():
        for name in module._masks:
            w = module._parameters[name]
            if w.ndim >= 2:
                w.data[...] = sample(scheme, w.shape, rng, getattr(module, "_gates", 1))
    return masks


def snip_inverted(model, inputs, targets, kappa, rng, loss_fn=None):
    """Keep the kappa LEAST sensitive connections: the opposite of what SNIP keeps."""
    scores = connection_sensitivity(model, inputs, targets, loss_fn).s
    return top_kappa([-s for s in scores], kappa)


PRUNERS = {
    "snip": snip,
    "random": random,
    "magnitude": magnitude,
    "snip-shuffled": snip_shuffled,
    "snip-reinit": snip_reinit,
    "snip-inverted": snip_inverted,
}
