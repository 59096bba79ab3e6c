"""SNIP: Single-shot Network Pruning based on Connection Sensitivity (Lee, Ajanthan & Torr,
ICLR 2019), Section 4, top to bottom.

Eq. 3   Every prunable layer computes with ``c * w``: ``c`` is the layer's mask (``layer.c``,
        stored as ``weight_mask``), a tensor of indicator variables, ones until pruned.
Eq. 4   Removing connection j changes the loss by  dL_j = L(1 * w) - L((1 - e_j) * w).
Eq. 5   Relax c to be continuous: g_j = dL/dc_j at c = 1 approximates dL_j, and one
        forward-backward gives it for every j at once. Because the layer computes ``c * w``,
        g_j = w_j * dL/dw_j at c = 1 (tested).
Eq. 6   Connection sensitivity  s_j = |g_j| / sum_k |g_k|.
Eq. 7   Keep the kappa most sensitive connections:  c_j = 1  iff  s_j is among the top kappa.
Alg. 1  Do this once, at a variance-scaling initialization, on one mini-batch; then train the
        sparse network in the standard way (the optimizers keep pruned weights at 0).

The functions here are the paper, in its order: ``connection_sensitivity`` (Eq. 5-6),
``top_kappa`` and ``kappa_from`` (Eq. 7), ``prune`` (Algorithm 1) with its ``PruneReport``.
``pruners.py`` holds the baselines that share the pruning step's signature.

Choices the paper leaves open, made here and documented where they are made: ties in the
top-kappa go to the lower global index; scoring runs in eval mode; several scoring batches
sum the signed g; biases are not pruned unless ``include_bias=True`` (the official code's
behaviour); the report adds the effective sparsity (connections on no input-output path).
"""
from __future__ import annotations

import dataclasses
import warnings
from collections import OrderedDict
from typing import Iterable, Optional

import numpy as np

from . import functional as F
from .tensor import Tensor


# ------------------------------------------------------------------------ Eq. 5 and 6
@dataclasses.dataclass
class Sensitivity:
    """Per prunable layer (in ``model.named_masks()`` order): g = dL/dc (Eq. 5) and the
    normalized connection sensitivity s = |g| / sum |g| over all layers (Eq. 6).

    ``losses``: the loss of each scored mini-batch (at c = 1)."""
    names: list
    g: list
    s: list
    losses: list = dataclasses.field(default_factory=list)

    def flat(self) -> np.ndarray:
        """s of every connection in one vector: layers in order, row-major within each."""
        return np.concatenate([s.ravel() for s in self.s]) if self.s else np.zeros(0)

    def as_dict(self) -> "OrderedDict[str, dict]":
        """``{layer name: {"g": g, "s": s}}`` in ``named_masks()`` order."""
        return OrderedDict((n, {"g": g, "s": s}) for n, g, s in zip(self.names, self.g, self.s))


def connection_sensitivity(model, inputs=None, targets=None, loss_fn=None,
                           batches: Optional[Iterable] = None) -> Sensitivity:
    """g = dL/dc at c = 1 (Eq. 5) and s = |g| / sum|g| (Eq. 6) for every prunable weight.

    Every mask ``c`` (``model.named_masks()``) is set to ones and made to require grad, one
    forward-backward runs, and ``c.grad`` *is* g. Because the layer computes with ``c * w``,
    at c = 1 this equals ``w * dL/dw`` (tested). ``loss_fn(logits, targets)`` defaults to
    ``F.cross_entropy``.

    ``batches``: an iterable of ``(inputs, targets)`` to accumulate over several mini-batches
    instead of one (give either ``inputs, targets`` or ``batches``). The *signed* g is summed
    over batches and |.| is taken at the end: a connection whose effect on the loss has
    opposite signs in two batches scores low. This differs from averaging |g| per batch, which
    would rank such a connection high. (The paper scores one mini-batch.)

    Scoring runs in eval mode (the mode is restored afterwards): nothing that depends on the
    mode may change while scoring. BatchNorm uses its running statistics instead of this
    batch's and does not update them (scoring must not change the model), and dropout (which
    the paper removes anyway) is off, so g is the gradient of one deterministic function.

    Afterwards the model is as it was: masks hold their previous values, ``c.requires_grad``
    is False and ``c.grad`` None, parameters keep their ``requires_grad`` flag and their
    ``.grad`` (scoring does not add to it), and the mode is restored.

    A mask that the forward does not use (the bias masks that ``prune(include_bias=True)``
    registers: the layers compute with ``b``, not ``c_b * b``) gets no ``c.grad``; for it g is
    computed from the identity above, g = b * dL/db, which is what ``c_b * b`` would give.
    """
    loss_fn = loss_fn or F.cross_entropy
    if batches is None:
        if inputs is None or targets is None:
            raise ValueError("connection_sensitivity: give inputs and targets, or batches=")
        batches = [(inputs, targets)]
    elif inputs is not None or targets is not None:
        raise ValueError("connection_sensitivity: give either inputs and targets (one "
                         "mini-batch) or batches= (several), not both")
    layers = list(model.named_masks())
    if not layers:
        raise ValueError(f"connection_sensitivity: {type(model).__name__} has no prunable "
                         f"layer (no module registered a mask)")
    masked = {id(w) for _, w, _ in layers}
    params = list(model.parameters())
    saved_masks = [mask.data.copy() for _, _, mask in layers]
    saved_flags = [p.requires_grad for p in params]
    saved_grads = [p.grad for p in params]
    was_training = model.training
    model.eval()
    losses = []
    try:
        # Only the masks are variables here. Masked weights also require grad, so that a
        # mask the forward does not use can fall back to w * dL/dw (costs one elementwise
        # product per layer); no other parameter gets a gradient.
        for p in params:
            p.requires_grad = id(p) in masked
            p.grad = None
        for _, _, mask in layers:
            mask.data[...] = 1
            mask.requires_grad = True
            mask.grad = None
        for x, y in batches:
            loss = loss_fn(model(x if isinstance(x, Tensor) else Tensor(x)), y)
            loss.backward()  # sums into c.grad: the signed g accumulates over batches
            losses.append(loss.item())
        if not losses:
            raise ValueError("connection_sensitivity: batches= yielded no batch")
        g = []
        for _, w, mask in layers:
            if mask.grad is not None:
                g.append(mask.grad.copy())
            elif w.grad is not None:   # the forward does not use c: g = w * dL/dw at c = 1
                g.append((w.data * w.grad).astype(mask.data.dtype))
            else:                      # the weight does not affect the loss at all
                g.append(np.zeros_like(mask.data))
    finally:
        for (_, _, mask), saved in zip(layers, saved_masks):
            mask.data[...] = saved
            mask.requires_grad = False
            mask.grad = None
        for p, flag, grad in zip(params, saved_flags, saved_grads):
            p.requires_grad = flag
            p.grad = grad
        model.train(was_training)
    for name, gi in zip((n for n, _, _ in layers), g):
        if not np.all(np.isfinite(gi)):
            raise ValueError(f"connection_sensitivity: dL/dc of {name} is not finite (loss "
                             f"{losses}); check the initialization and the inputs' scale")
    total = float(sum(np.abs(gi).sum(dtype=np.float64) for gi in g))
    s = [np.abs(gi) / total if total > 0 else np.zeros_like(gi) for gi in g]
    return Sensitivity(names=[name for name, _, _ in layers], g=g, s=s, losses=losses)


# ---------------------------------------------------------------------------- Eq. 7
def kappa_from(m: int, sparsity=None, kappa=None) -> int:
    """The number of connections to keep, from the paper's sparsity kappa-bar = (m - kappa)/m
    in [0, 1), or given directly as ``kappa`` (an integer 0 <= kappa <= m)."""
    if (sparsity is None) == (kappa is None):
        raise ValueError("give exactly one of sparsity (kappa-bar, a fraction in [0, 1) of "
                         "connections to remove) or kappa (the number of connections to keep)")
    if kappa is not None:
        if isinstance(kappa, bool) or not isinstance(kappa, (int, np.integer)) or not 0 <= kappa <= m:
            raise ValueError(f"kappa must be an integer number of connections to keep in "
                             f"[0, {m}], got {kappa!r}")
        return int(kappa)
    if isinstance(sparsity, bool) or not isinstance(sparsity, (int, float, np.floating, np.integer)) \
            or not np.isfinite(sparsity) or not 0 <= sparsity < 1:
        hint = ""
        if isinstance(sparsity, (int, np.integer)) and not isinstance(sparsity, bool) \
                and 1 <= sparsity <= m:
            hint = f"; to keep {sparsity} connections, pass kappa={sparsity} instead"
        raise ValueError(f"sparsity must be a fraction in [0, 1) (the paper's kappa-bar = "
                         f"(m - kappa) / m: 0.95 removes 95% of the connections), got "
                         f"{sparsity!r}{hint}")
    # round to the nearest count: 0.95 of m = 266,200 keeps 13,310, not 13,309
    return int(round(m * (1.0 - float(sparsity))))


def top_kappa(scores: list, kappa: int) -> list:
    """Boolean masks keeping exactly ``kappa`` connections: the largest scores over all layers.

    Tie rule: among equal scores the connection with the lower global flat index wins, where
    the global index runs over the layers in ``named_masks()`` order, row-major within each
    (a stable sort of the negated scores). So all-equal scores keep the first kappa entries.
    +0.0 and -0.0 count as equal; NaN scores are an error. ``scores`` may be a
    :class:`Sensitivity` (its s is used).
    """
    if isinstance(scores, Sensitivity):
        scores = scores.s
    sizes = [np.size(s) for s in scores]
    m = int(sum(sizes))
    if isinstance(kappa, bool) or not isinstance(kappa, (int, np.integer)) or not 0 <= kappa <= m:
        raise ValueError(f"top_kappa: kappa must be an integer in [0, {m}], got {kappa!r}")
    flat = np.concatenate([np.asarray(s, dtype=np.float64).ravel() for s in scores]) if scores \
        else np.zeros(0)
    if np.isnan(flat).any():
        raise ValueError("top_kappa: the scores contain NaN (did the loss overflow?)")
    keep = np.zeros(m, dtype=bool)
    keep[np.argsort(-flat, kind="stable")[:kappa]] = True
    out, start = [], 0
    for s, n in zip(scores, sizes):
        out.append(keep[start:start + n].reshape(np.shape(s)))
        start += n
    return out


# -------------------------------------------------------------------- Algorithm 1
@dataclasses.dataclass
class LayerReport:
    """One prunable tensor after pruning. ``effective``: connections of this layer still on a
    path from input to output (None when the model is not a plain chain)."""
    name: str
    shape: tuple
    total: int
    kept: int
    gates: Optional[dict] = None  # gate name -> density, for recurrent matrices
    effective: Optional[int] = None

    @property
    def density(self) -> float:
        return self.kept / self.total if self.total else 0.0


@dataclasses.dataclass
class PruneReport:
    """What ``prune`` did: per layer kept / total / density, global and effective sparsity.

    ``table()`` is the printable per-layer table, ``to_dict()`` the same as plain JSON types.
    """
    method: str
    layers: list
    effective_kept: Optional[int] = None
    warnings: list = dataclasses.field(default_factory=list)

    @property
    def prunable(self) -> int:
        return sum(layer.total for layer in self.layers)

    @property
    def kept(self) -> int:
        return sum(layer.kept for layer in self.layers)

    @property
    def sparsity(self) -> float:
        """The paper's kappa-bar = (m - kappa) / m over all prunable tensors."""
        return 1.0 - self.kept / self.prunable if self.prunable else 0.0

    @property
    def effective_sparsity(self) -> Optional[float]:
        """1 - (connections on an input-to-output path) / m; None if it was not computable."""
        if self.effective_kept is None or not self.prunable:
            return None
        return 1.0 - self.effective_kept / self.prunable

    def table(self) -> str:
        eff = self.effective_kept is not None
        head = f"{'layer':28s} {'shape':>18s} {'kept':>10s} {'total':>11s} {'density':>8s}"
        lines = [head + (f" {'effective':>10s}" if eff else "")]
        for layer in self.layers:
            row = (f"{layer.name:28s} {str(tuple(layer.shape)):>18s} {layer.kept:10,d} "
                   f"{layer.total:11,d} {100 * layer.density:7.2f}%")
            if eff:
                row += f" {layer.effective:10,d}" if layer.effective is not None else f" {'-':>10s}"
            lines.append(row)
            for gate, density in (layer.gates or {}).items():
                lines.append(f"{'  gate ' + gate:28s} {'':>18s} {'':>10s} {'':>11s} "
                             f"{100 * density:7.2f}%")
        total = (f"{'all prunable (' + self.method + ')':28s} {'':>18s} {self.kept:10,d} "
                 f"{self.prunable:11,d} {100 * (1 - self.sparsity):7.2f}%")
        lines.append(total + (f" {self.effective_kept:10,d}" if eff else ""))
        es = self.effective_sparsity
        lines.append(f"sparsity {100 * self.sparsity:.2f}%"
                     + (", effective sparsity not computed (not a plain chain of layers)"
                        if es is None else
                        f", effective sparsity {100 * es:.2f}% (also counting kept connections "
                        f"that lie on no path from input to output)"))
        lines += [f"WARNING: {w}" for w in self.warnings]
        return "\n".join(lines)

    def to_dict(self) -> dict:
        """Plain Python types only (``json.dumps`` works on it)."""
        return dict(method=self.method, sparsity=float(self.sparsity), kept=int(self.kept),
                    prunable=int(self.prunable),
                    effective_sparsity=None if self.effective_sparsity is None
                    else float(self.effective_sparsity),
                    effective_kept=None if self.effective_kept is None else int(self.effective_kept),
                    warnings=list(self.warnings),
                    layers=[dict(name=l.name, shape=[int(n) for n in l.shape], kept=int(l.kept),
                                 total=int(l.total), density=float(l.density), gates=l.gates,
                                 effective=l.effective) for l in self.layers])


def prune(model, inputs, targets, sparsity=None, method: str = "snip", *, kappa=None,
          include_bias: bool = False, rng=None, loss_fn=None) -> PruneReport:
    """Algorithm 1: score the connections on one mini-batch and keep the top kappa, once.

    1. m = number of prunable connections (every mask of ``model.named_masks()``);
       kappa = round((1 - sparsity) * m), or ``kappa`` given directly.
    2. ``PRUNERS[method]`` returns one boolean keep-mask per layer, exactly kappa True in all
       (for "snip": the top kappa of s, Eq. 6-7, scored on ``inputs, targets``).
    3. Every mask ``c`` is written in place (``c.data[...] = keep``: the mask object stays the
       one ``Parameter.mask`` refers to, so the optimizers see it) and the pruned weights are
       zeroed (``w *= c``). From here on the network is the sparse one; train it as usual.

    ``sparsity``: the paper's kappa-bar = (m - kappa) / m in [0, 1); or give ``kappa``, the
    number of connections to keep. ``method``: a name in ``pruners.PRUNERS``. ``rng``: a
    ``np.random.Generator`` or a seed, for the pruners that draw random numbers.

    ``include_bias=True`` reproduces the official SNIP code, which puts the biases into the
    top-kappa as well. It does so by registering a mask on the ``bias`` of every prunable layer
    (Linear, Conv2d) before scoring. Biases are initialized to zero, so their sensitivity
    b * dL/db is 0, they lose every tie, and all of them are removed (unless kappa exceeds the
    number of nonzero-score weights). The masks stay registered after pruning: that is what
    keeps the removed biases at exactly 0 through training (the optimizers honour
    ``Parameter.mask``), as the official code's masked forward does; ``state_dict`` then has
    ``bias_mask`` entries, the name ``torch.nn.utils.prune`` uses. Off by default: the paper
    prunes weights.

    Returns a :class:`PruneReport`; a layer left with no connection at all, or a network left
    with no path from input to output, also raises a ``RuntimeWarning``.
    """
    from .pruners import PRUNERS
    if method not in PRUNERS:
        raise ValueError(f"unknown pruning method {method!r}; expected one of {', '.join(PRUNERS)}")
    rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    layers = list(model.named_masks())
    if not layers:
        raise ValueError(f"prune: {type(model).__name__} has no prunable layer (no module "
                         f"registered a mask)")
    if include_bias:
        for _, module in model.named_modules():
            if module._masks and module._parameters.get("bias") is not None \
                    and "bias" not in module._masks:
                module.register_mask("bias")
        layers = list(model.named_masks())
    m = sum(mask.data.size for _, _, mask in layers)
    keep_count = kappa_from(m, sparsity=sparsity, kappa=kappa)
    masks = [np.asarray(k, dtype=bool)
             for k in PRUNERS[method](model, inputs, targets, keep_count, rng, loss_fn=loss_fn)]
    if len(masks) != len(layers) or any(k.shape != mask.shape for k, (_, _, mask) in zip(masks, layers)) \
            or sum(int(k.sum()) for k in masks) != keep_count:
        raise RuntimeError(f"pruner {method!r} broke its contract: it must return one boolean "
                           f"mask per prunable layer, shaped like the layer, with exactly "
                           f"kappa = {keep_count} True in all")
    is_bias = [weight.ndim == 1 for _, weight, _ in layers]
    reports, problems = [], []
    for (name, weight, mask), keep, bias in zip(layers, masks, is_bias):
        mask.data[...] = keep
        weight.data *= mask.data
        kept = int(keep.sum())
        module = _owner(model, name)
        reports.append(LayerReport(name=name, shape=tuple(mask.shape), total=int(keep.size),
                                   kept=kept, gates=_gate_densities(module, keep)))
        if kept == 0 and not bias:
            problems.append(f"layer {name} is cut off entirely (0 of {keep.size} connections "
                            f"kept): no signal passes it, the network's output no longer "
                            f"depends on its input")
    weights = [(n, k) for (n, _, _), k, b in zip(layers, masks, is_bias) if not b]
    per_layer = effective_kept(weights, getattr(model, "_chain", True), per_layer=True)
    if per_layer is not None:
        effective = iter(per_layer)
        for report, b in zip(reports, is_bias):
            if not b:
                report.effective = next(effective)
        if sum(per_layer) == 0 and keep_count > 0 and not problems:
            problems.append("no kept connection lies on a path from input to output: the "
                            "network's output no longer depends on its input (lower the "
                            "sparsity)")
    for problem in problems:
        warnings.warn(problem, RuntimeWarning, stacklevel=2)
    return PruneReport(method=method, layers=reports, warnings=problems,
                       effective_kept=None if per_layer is None else int(sum(per_layer)))


def _owner(model, name: str):
    module = model
    for part in name.split(".")[:-1]:
        module = module._modules[part]
    return module


def _gate_densities(module, keep: np.ndarray) -> Optional[dict]:
    """Density of each gate block of a stacked recurrent matrix (modules with ``_gate_names``,
    as ``nn.recurrent.gate_densities`` reports them, here per mask: W_ih and W_hh apart)."""
    names = getattr(module, "_gate_names", None)
    if not names or keep.ndim != 2 or keep.shape[0] % len(names):
        return None
    blocks = np.split(keep, len(names), axis=0)
    return {g: float(b.mean()) for g, b in zip(names, blocks)}


def effective_kept(layers: list, chain: bool = True, per_layer: bool = False):
    """Connections still on a path from input to output, for a plain chain of layers.

    ``layers``: ``(name, keep mask)`` in forward order, masks shaped (out, in, ...). The rule:
    a unit (neuron or channel) between two layers that has no kept incoming connection
    carries no information about the input, and one with no kept outgoing connection affects
    nothing: the connections into and out of such a unit are useless. Removing them can make
    more units dead, so the rule is applied until nothing changes. (The fixed point is exactly
    "a connection u -> v counts iff u is reachable from the input and v reaches the output";
    a test checks this against a graph search.) The network's inputs and outputs are never
    dead. A flatten between a convolution (C channels) and a fully connected layer (C*H*W
    inputs) maps each channel to its H*W inputs; pooling and elementwise layers between two
    prunable layers keep units one-to-one. Biases are ignored (a dead unit's bias is a
    constant, not information about the input).

    Returns the total (or, with ``per_layer=True``, one count per layer), or None when the
    layers do not form such a chain: consecutive shapes that do not fit, or a model that sets
    ``_chain = False`` (residual and recurrent models do), where the rule would be wrong.
    It assumes ``named_masks()`` order is forward order, true for the models in this package.
    """
    if not chain or not layers:
        return None
    keeps = [np.array(k, dtype=bool).reshape(k.shape[0], k.shape[1], -1) for _, k in layers]
    for a, b in zip(keeps, keeps[1:]):
        if b.shape[1] % a.shape[0]:
            return None
    changed = True
    while changed:
        changed = False
        for i in range(len(keeps) - 1):
            a, b = keeps[i], keeps[i + 1]
            spread = b.shape[1] // a.shape[0]
            has_in = a.any(axis=(1, 2))                                      # per unit
            has_out = b.reshape(b.shape[0], a.shape[0], spread, -1).any(axis=(0, 2, 3))
            dead = ~(has_in & has_out)
            if dead.any():
                dead_in_b = np.repeat(dead, spread)
                if a[dead].any() or b[:, dead_in_b].any():
                    a[dead] = False
                    b[:, dead_in_b] = False
                    changed = True
    counts = [int(k.sum()) for k in keeps]
    return counts if per_layer else int(sum(counts))
