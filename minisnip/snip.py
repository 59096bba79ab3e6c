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

The functions here are the paper; ``pruners.py`` holds the baselines that share its signature.
"""
from __future__ import annotations

import dataclasses
import warnings
from typing import Iterable, Optional

import numpy as np

from . import functional as F
from .tensor import Tensor


# ------------------------------------------------------------------------ Eq. 5 and 6
@dataclasses.dataclass
class Sensitivity:
    """Per prunable layer (in ``model.named_masks()`` order): g = dL/dc (Eq. 5) and the
    normalized connection sensitivity s = |g| / sum |g| over all layers (Eq. 6)."""
    names: list
    g: list
    s: list

    def flat(self) -> np.ndarray:
        return np.concatenate([s.ravel() for s in self.s]) if self.s else np.zeros(0)


def connection_sensitivity(model, inputs=None, targets=None, loss_fn=None,
                           batches: Optional[Iterable] = None) -> Sensitivity:
    """g = dL/dc at c = 1 (Eq. 5) and s = |g| / sum|g| (Eq. 6) for every prunable weight.

    Every mask ``c`` is set to ones and made to require grad; the weights are made not to, so
    one forward-backward computes exactly ``c.grad``, which *is* g. Masks, weights' flags and
    the model's mode are restored afterwards.

    ``batches``: an iterable of ``(inputs, targets)`` to accumulate over several mini-batches
    instead of one. The signed g is summed over batches and |.| is taken at the end: a
    connection whose effect on the loss cancels between batches scores low. (Averaging |g|
    per batch instead would rank such a connection high; the paper uses one batch.)

    Scoring runs in eval mode, so that nothing that depends on the mode changes while scoring
    (BatchNorm uses its running statistics rather than this batch's; dropout, which the paper
    removes anyway, would be off).
    """
    loss_fn = loss_fn or F.cross_entropy
    if batches is None:
        if inputs is None or targets is None:
            raise ValueError("connection_sensitivity: give inputs and targets, or batches=")
        batches = [(inputs, targets)]
    layers = list(model.named_masks())
    if not layers:
        raise ValueError(f"connection_sensitivity: {type(model).__name__} has no prunable "
                         f"layer (no module registered a mask)")
    saved_masks = [mask.data.copy() for _, _, mask in layers]
    saved_flags = [p.requires_grad for p in model.parameters()]
    was_training = model.training
    model.eval()
    try:
        for p in model.parameters():
            p.requires_grad = False
        for _, _, mask in layers:
            mask.data[...] = 1
            mask.requires_grad = True
            mask.grad = None
        count = 0
        for x, y in batches:
            loss = loss_fn(model(x if isinstance(x, Tensor) else Tensor(x)), y)
            loss.backward()  # sums into c.grad: signed g accumulates over batches
            count += 1
        if count == 0:
            raise ValueError("connection_sensitivity: batches= yielded no batch")
        g = [mask.grad.copy() if mask.grad is not None else np.zeros_like(mask.data)
             for _, _, mask in layers]
    finally:
        for (_, _, mask), saved in zip(layers, saved_masks):
            mask.data[...] = saved
            mask.requires_grad = False
            mask.grad = None
        for p, flag in zip(model.parameters(), saved_flags):
            p.requires_grad = flag
        model.train(was_training)
    total = float(sum(np.abs(gi).sum(dtype=np.float64) for gi in g))
    s = [np.abs(gi) / total if total > 0 else np.zeros_like(gi) for gi in g]
    return Sensitivity(names=[name for name, _, _ in layers], g=g, s=s)


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
        raise ValueError(f"sparsity must be a fraction in [0, 1) (the paper's kappa-bar = "
                         f"(m - kappa) / m: 0.95 removes 95% of the connections), got {sparsity!r}")
    return int(round(m * (1.0 - float(sparsity))))


def top_kappa(scores: list, kappa: int) -> list:
    """Boolean masks keeping exactly ``kappa`` connections: the largest scores over all layers.

    Tie rule: among equal scores the connection with the lower global flat index wins, where
    the global index runs over the layers in ``named_masks()`` order, row-major within each
    (a stable sort of the negated scores). So all-equal scores keep the first kappa entries.
    """
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
    name: str
    shape: tuple
    total: int
    kept: int
    gates: Optional[dict] = None  # gate name -> density, for recurrent matrices

    @property
    def density(self) -> float:
        return self.kept / self.total if self.total else 0.0


@dataclasses.dataclass
class PruneReport:
    """What ``prune`` did: per layer kept / total / density, global and effective sparsity."""
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
        return 1.0 - self.kept / self.prunable if self.prunable else 0.0

    @property
    def effective_sparsity(self) -> Optional[float]:
        if self.effective_kept is None or not self.prunable:
            return None
        return 1.0 - self.effective_kept / self.prunable

    def table(self) -> str:
        lines = [f"{'layer':28s} {'shape':>18s} {'kept':>10s} {'total':>10s} {'density':>8s}"]
        for layer in self.layers:
            lines.append(f"{layer.name:28s} {str(tuple(layer.shape)):>18s} {layer.kept:10,d} "
                         f"{layer.total:10,d} {100 * layer.density:7.2f}%")
            for gate, density in (layer.gates or {}).items():
                lines.append(f"{'  gate ' + gate:28s} {'':>18s} {'':>10s} {'':>10s} "
                             f"{100 * density:7.2f}%")
        lines.append(f"{'all prunable (' + self.method + ')':28s} {'':>18s} {self.kept:10,d} "
                     f"{self.prunable:10,d} {100 * (1 - self.sparsity):7.2f}%")
        eff = self.effective_sparsity
        lines.append(f"sparsity {100 * self.sparsity:.2f}%"
                     + ("" if eff is None else f", effective sparsity {100 * eff:.2f}% "
                        f"(also counting connections left without a path from input to output)"))
        lines += [f"WARNING: {w}" for w in self.warnings]
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return dict(method=self.method, sparsity=self.sparsity, kept=self.kept,
                    prunable=self.prunable, effective_sparsity=self.effective_sparsity,
                    warnings=list(self.warnings),
                    layers=[dict(name=l.name, shape=list(l.shape), kept=l.kept, total=l.total,
                                 density=l.density, gates=l.gates) for l in self.layers])


def prune(model, inputs, targets, sparsity=None, method: str = "snip", *, kappa=None,
          include_bias: bool = False, rng=None, loss_fn=None) -> PruneReport:
    """Algorithm 1: score the connections on one mini-batch and keep the top kappa, once.

    Writes every layer's mask ``c`` in place and zeroes the pruned weights (``w *= c``), so the
    network is the sparse one from here on; returns a :class:`PruneReport`.

    ``sparsity``: the paper's kappa-bar = (m - kappa) / m in [0, 1); or give ``kappa``, the
    number of connections to keep. ``method``: a name in ``pruners.PRUNERS``.

    ``include_bias=True`` reproduces the official SNIP code, which puts the biases into the
    top-kappa as well: it registers a mask on every bias of a prunable layer. Biases start at
    zero, so their sensitivity w * dL/dw is 0 and they are all removed. Off by default.
    """
    from .pruners import PRUNERS
    if method not in PRUNERS:
        raise ValueError(f"unknown pruning method {method!r}; expected one of {', '.join(PRUNERS)}")
    rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    if include_bias:
        for _, module in model.named_modules():
            if module._masks and "bias" in module._parameters and \
                    module._parameters["bias"] is not None and "bias" not in module._masks:
                module.register_mask("bias")
    layers = list(model.named_masks())
    m = sum(mask.data.size for _, _, mask in layers)
    keep_count = kappa_from(m, sparsity=sparsity, kappa=kappa)
    masks = PRUNERS[method](model, inputs, targets, keep_count, rng, loss_fn=loss_fn)
    reports, problems = [], []
    for (name, weight, mask), keep in zip(layers, masks):
        mask.data[...] = keep
        weight.data *= mask.data
        kept = int(keep.sum())
        module = _owner(model, name)
        reports.append(LayerReport(name=name, shape=tuple(mask.shape), total=int(keep.size),
                                   kept=kept, gates=_gate_densities(module, keep)))
        if kept == 0 and not name.endswith("bias"):
            problems.append(f"layer {name} is cut off entirely (0 of {keep.size} connections "
                            f"kept): no signal passes it, the network's output no longer "
                            f"depends on its input")
    for problem in problems:
        warnings.warn(problem, RuntimeWarning, stacklevel=2)
    weights = [(n, k) for (n, _, _), k in zip(layers, masks) if not n.endswith("bias")]
    return PruneReport(method=method, layers=reports, warnings=problems,
                       effective_kept=effective_kept(weights, getattr(model, "_chain", True)))


def _owner(model, name: str):
    module = model
    for part in name.split(".")[:-1]:
        module = module._modules[part]
    return module


def _gate_densities(module, keep: np.ndarray) -> Optional[dict]:
    """Density of each gate block of a stacked recurrent matrix (modules with ``_gate_names``)."""
    names = getattr(module, "_gate_names", None)
    if not names or keep.ndim != 2 or keep.shape[0] % len(names):
        return None
    blocks = np.split(keep, len(names), axis=0)
    return {g: float(b.mean()) for g, b in zip(names, blocks)}


def effective_kept(layers: list, chain: bool = True) -> Optional[int]:
    """Connections still on a path from input to output, for a plain chain of layers.

    ``layers``: ``(name, keep mask)`` in forward order, masks shaped (out, in, ...). A unit
    (neuron or channel) between two layers that has no kept incoming connection carries no
    information about the input, and one with no kept outgoing connection affects nothing:
    the connections into or out of such a unit are useless. Removing them can make more units
    dead, so the rule is applied until nothing changes. The flatten between a convolution
    (C channels) and a fully connected layer (C*H*W inputs) maps each channel to its H*W
    inputs. Biases are ignored (a dead unit's bias is a constant, not information).

    Returns None when the layers do not form such a chain (residual or recurrent models, or a
    model that sets ``_chain = False``): the rule would be wrong there.
    """
    if not chain or not layers:
        return None
    keeps = [np.asarray(k, dtype=bool).reshape(k.shape[0], k.shape[1], -1) for _, k in layers]
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
    return int(sum(k.sum() for k in keeps))
