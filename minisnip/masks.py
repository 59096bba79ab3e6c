"""The masks ``c`` of the paper's Eq. 3, as a model holds them: counting, writing, scoring.

Every prunable layer registers, for each prunable weight ``w``, a mask tensor ``c`` of the same
shape (``module.register_mask``) and computes with ``c * w``. ``model.named_masks()`` lists
them as ``(name, w, c)`` in a fixed order: the order of every per-layer list in ``snip.py``
and ``pruners.py``. This module holds what the paper's functions need from those masks and
would otherwise clutter them:

* :func:`prunable` and :func:`count`: the masks and m, the number of connections;
* :func:`scoring`: the state in which connections are scored (c set to given values and made
  to require grad, eval mode), restoring the model afterwards;
* :func:`write` and :func:`apply`: writing a mask in place (so that every holder of it, the
  layer, its weight's ``.mask`` and the optimizers, keeps seeing the same array) and zeroing
  the pruned weights;
* :func:`add_bias_masks`: the official SNIP code's option of pruning biases too.
"""
from __future__ import annotations

import contextlib

import numpy as np


def prunable(model) -> list:
    """``[(name, w, c), ...]`` of every prunable weight; an error for a model without one."""
    layers = list(model.named_masks())
    if not layers:
        raise ValueError(f"{type(model).__name__} has no prunable layer: no module registered a "
                         f"mask (Linear, Conv2d, LSTM and GRU do)")
    return layers


def count(model) -> int:
    """m: the number of prunable connections (entries of every mask)."""
    return int(sum(c.data.size for _, _, c in prunable(model)))


def write(c, values) -> None:
    """Write ``values`` into the mask tensor ``c`` in place.

    In place, never by replacing the array: the layer, ``w.mask`` and the optimizers all hold
    this one array. A mask that a sparse kernel has frozen (read-only while the layer computes
    from a pattern built from it) is unfrozen for the write, and its ``version`` is advanced so
    that the layer rebuilds the pattern before its next forward.
    """
    frozen = not c.data.flags.writeable
    if frozen:
        c.data.flags.writeable = True
    try:
        c.data[...] = values
    finally:
        c.version = getattr(c, "version", 0) + 1
        if frozen:
            c.data.flags.writeable = False


def apply(model, keep: list) -> None:
    """Prune: ``c := keep`` for every mask (one boolean array per ``named_masks()`` entry) and
    ``w := c * w``, so that a pruned weight is exactly 0 from here on."""
    layers = prunable(model)
    if len(keep) != len(layers):
        raise ValueError(f"apply: {len(keep)} keep-masks for {len(layers)} prunable layers")
    for (name, w, c), k in zip(layers, keep):
        if np.shape(k) != c.shape:
            raise ValueError(f"apply: keep-mask of shape {np.shape(k)} for {name}, whose mask "
                             f"has shape {c.shape}")
        write(c, k)
        w.data *= c.data


def add_bias_masks(model) -> None:
    """Register a mask on the bias of every layer that has a prunable weight (the official
    SNIP code ranks biases with the weights). The layers then compute with ``c_b * b``."""
    for _, module in model.named_modules():
        if module._masks and module._parameters.get("bias") is not None \
                and "bias" not in module._masks:
            module.register_mask("bias")


@contextlib.contextmanager
def scoring(model, at=None):
    """Score connections: inside the block every mask is set to ``at`` (default: ones, the
    paper's c = 1) and requires grad, no parameter does (a backward computes dL/dc only), and
    the model is in eval mode (BatchNorm uses and keeps its running statistics, dropout is
    off: the loss is one deterministic function of c). Yields ``[(name, c), ...]``.

    Afterwards the model is as it was: mask values, ``requires_grad`` flags, ``.grad`` of masks
    and parameters, and the train/eval mode.
    """
    layers = prunable(model)
    params = list(model.parameters())
    saved_masks = [c.data.copy() for _, _, c in layers]
    saved_params = [(p.requires_grad, p.grad) for p in params]
    was_training = model.training
    try:
        model.eval()
        for p in params:
            p.requires_grad = False
        for i, (_, _, c) in enumerate(layers):
            write(c, 1 if at is None else at[i])
            c.requires_grad, c.grad = True, None
        yield [(name, c) for name, _, c in layers]
    finally:
        for (_, _, c), saved in zip(layers, saved_masks):
            write(c, saved)
            c.requires_grad, c.grad = False, None
        for p, (flag, grad) in zip(params, saved_params):
            p.requires_grad, p.grad = flag, grad
        model.train(was_training)
