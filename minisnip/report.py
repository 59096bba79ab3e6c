"""What pruning did, per layer: the report that ``snip.prune`` and ``pruners.prune`` return.

Per prunable tensor: kept / total connections and the density, per gate for the stacked
matrices of LSTM/GRU layers, and the *effective* count (connections still on a path from the
input to the output: Frankle et al., and the paper's observation that random pruning at high
sparsity cuts units off). Globally: the sparsity kappa-bar = (m - kappa) / m and the effective
sparsity. Problems that make the pruned network useless (a layer cut off entirely, no path
from input to output) are warnings, in the report and as ``RuntimeWarning``.
"""
from __future__ import annotations

import dataclasses
import warnings
from typing import Optional

import numpy as np


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


def prune_report(model, method: str, keep: list, stacklevel: int = 3) -> PruneReport:
    """The report of a model whose masks were just set to ``keep`` (one boolean array per
    ``named_masks()`` entry) by ``method``; its problems are also raised as RuntimeWarnings."""
    layers = list(model.named_masks())
    is_bias = [w.ndim == 1 for _, w, _ in layers]
    reports = [LayerReport(name=name, shape=tuple(c.shape), total=int(np.size(k)),
                           kept=int(np.sum(k)), gates=gate_densities_of(_owner(model, name), k))
               for (name, _, c), k in zip(layers, keep)]
    problems = [f"layer {r.name} is cut off entirely (0 of {r.total} connections kept): no "
                f"signal passes it, the network's output no longer depends on its input"
                for r, bias in zip(reports, is_bias) if r.kept == 0 and not bias]
    weights = [(name, k) for (name, _, _), k, bias in zip(layers, keep, is_bias) if not bias]
    per_layer = effective_kept(weights, getattr(model, "_chain", True), per_layer=True)
    if per_layer is not None:
        effective = iter(per_layer)
        for report, bias in zip(reports, is_bias):
            if not bias:
                report.effective = next(effective)
        if sum(per_layer) == 0 and sum(r.kept for r in reports) > 0 and not problems:
            problems.append("no kept connection lies on a path from input to output: the "
                            "network's output no longer depends on its input (lower the "
                            "sparsity)")
    for problem in problems:
        warnings.warn(problem, RuntimeWarning, stacklevel=stacklevel)
    return PruneReport(method=method, layers=reports, warnings=problems,
                       effective_kept=None if per_layer is None else int(sum(per_layer)))


def _owner(model, name: str):
    module = model
    for part in name.split(".")[:-1]:
        module = module._modules[part]
    return module


def gate_densities_of(module, keep: np.ndarray) -> Optional[dict]:
    """Density of each gate block of a stacked recurrent matrix ``keep`` (G*H, ...) of a module
    with ``_gate_names`` (LSTM: i, f, g, o; GRU: r, z, n); None for other layers."""
    names = getattr(module, "_gate_names", None)
    keep = np.asarray(keep)
    if not names or keep.ndim != 2 or keep.shape[0] % len(names):
        return None
    return {g: float(b.mean()) for g, b in zip(names, np.split(keep, len(names), axis=0))}


def gate_densities(module) -> dict:
    """Fraction of connections kept in each gate of a recurrent layer's two masks, e.g.
    ``{"ih.i": 0.04, ..., "hh.o": 0.12}``."""
    out = {}
    for side, mask in (("ih", module.c_ih), ("hh", module.c_hh)):
        for gate, density in gate_densities_of(module, mask.data).items():
            out[f"{side}.{gate}"] = density
    return out


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
