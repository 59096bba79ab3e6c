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
``kappa_from`` and ``top_kappa`` (Eq. 7), ``prune`` (Algorithm 1). What they also need lives
beside them: ``masks.py`` (the masks, and the ``scoring`` state that saves and restores the
model), ``report.py`` (the per-layer report). ``pruners.py`` puts the other pruning-at-
initialization methods on the same footing.

Choices the paper leaves open, made here and documented where they are made: ties in the
top-kappa go to the lower global index; scoring runs in eval mode; several scoring batches
sum the signed g; biases are not pruned unless ``include_bias=True`` (the official code's
behaviour); the report adds the effective sparsity (connections on no input-output path).
"""
from __future__ import annotations

import dataclasses
import warnings

import numpy as np

from . import functional as F
from .masks import add_bias_masks, apply, count, scoring
from .report import PruneReport, prune_report
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
    losses: list

    def flat(self) -> np.ndarray:
        """s of every connection in one vector: layers in order, row-major within each."""
        return np.concatenate([s.ravel() for s in self.s])


def connection_sensitivity(model, inputs=None, targets=None, loss_fn=None,
                           batches=None, at=None) -> Sensitivity:
    """g = dL/dc at c = 1 (Eq. 5) and s = |g| / sum|g| (Eq. 6) for every prunable weight.

    One forward-backward with every mask ``c`` at 1 and requiring grad: ``c.grad`` *is* g
    (for ``c * w``, it equals ``w * dL/dw``). ``loss_fn(logits, targets)`` defaults to
    ``F.cross_entropy``. ``batches``: ``(inputs, targets)`` pairs to score several mini-batches
    instead of one; the *signed* g is summed over them and |.| taken at the end (the paper
    scores one). ``masks.scoring`` holds the state: eval mode (BatchNorm uses its running
    statistics and keeps them), only the masks require grad, and afterwards the model is as
    it was. ``at``: the mask values (one array per prunable layer) at which g is taken instead
    of the paper's c = 1; FORCE and iterative SNIP (``pai/force.py``) take it at the current
    pruned mask.
    """
    loss_fn = loss_fn or F.cross_entropy
    losses = []
    with scoring(model, at) as layers:                      # c = 1 (or at), requires grad
        for x, y in _scoring_batches(inputs, targets, batches):
            loss = loss_fn(model(Tensor(x)), y)             # L(c * w; D^b)
            loss.backward()                                 # c.grad += dL/dc
            losses.append(loss.item())
        g = [c.grad.copy() if c.grad is not None else np.zeros(c.shape, c.dtype)
             for _, c in layers]                            # Eq. 5: g_j = dL/dc_j
    names = [name for name, _ in layers]
    _check_scores(names, g, losses)
    total = float(sum(np.abs(gj).sum(dtype=np.float64) for gj in g))
    s = [np.abs(gj) / total if total > 0 else np.zeros_like(gj) for gj in g]   # Eq. 6
    return Sensitivity(names=names, g=g, s=s, losses=losses)


def _scoring_batches(inputs, targets, batches):
    """The mini-batches to score, each checked: one ``(inputs, targets)``, or ``batches``."""
    if (batches is None) == (inputs is None and targets is None):
        raise ValueError("connection_sensitivity: give inputs and targets (one mini-batch) or "
                         "batches= (several), not both and not neither")
    scored = 0
    for x, y in [(inputs, targets)] if batches is None else batches:
        if x is None or y is None:
            raise ValueError("connection_sensitivity: inputs and targets are both needed")
        if len(x) == 0 or len(x) != len(y):
            raise ValueError(f"connection_sensitivity: a scoring batch needs at least one "
                             f"example and as many targets as inputs, got {len(x)} inputs and "
                             f"{len(y)} targets")
        scored += 1
        yield (x.data if isinstance(x, Tensor) else x), y
    if not scored:
        raise ValueError("connection_sensitivity: batches= yielded no batch")


def _check_scores(names, g, losses) -> None:
    for name, gj in zip(names, g):
        if not np.all(np.isfinite(gj)):
            raise ValueError(f"connection_sensitivity: dL/dc of {name} is not finite (loss "
                             f"{losses}); check the initialization and the inputs' scale")
    if not any(np.any(gj) for gj in g):
        warnings.warn("connection_sensitivity: dL/dc is 0 for every connection, so every "
                      "s_j = 0 and the top kappa are simply the first kappa by index; were "
                      "the weights initialized (nn.init.initialize)?", RuntimeWarning,
                      stacklevel=3)


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
    scores, flat = _flat_scores(scores, kappa)      # every layer's scores in one vector
    keep = np.zeros(flat.size, dtype=bool)
    keep[np.argsort(-flat, kind="stable")[:kappa]] = True
    assert keep.sum() == kappa
    masks, start = [], 0
    for s in scores:                                # back into one mask per layer
        masks.append(keep[start:start + np.size(s)].reshape(np.shape(s)))
        start += np.size(s)
    return masks


def _flat_scores(scores, kappa) -> tuple:
    """``(scores as a list, all of them in one float64 vector)``, checked: one array per
    layer, no NaN, kappa an integer in [0, m]."""
    if isinstance(scores, Sensitivity):
        scores = scores.s
    if not len(scores):
        raise ValueError("top_kappa: no scores given (one array per prunable layer expected)")
    scores = list(scores)
    flat = np.concatenate([np.asarray(s, dtype=np.float64).ravel() for s in scores])
    if isinstance(kappa, bool) or not isinstance(kappa, (int, np.integer)) \
            or not 0 <= kappa <= flat.size:
        raise ValueError(f"top_kappa: kappa must be an integer in [0, {flat.size}], got "
                         f"{kappa!r}")
    if np.isnan(flat).any():
        raise ValueError("top_kappa: the scores contain NaN (did the loss overflow?)")
    return scores, flat


# -------------------------------------------------------------------- Algorithm 1
def prune(model, inputs, targets, sparsity=None, *, kappa=None, include_bias: bool = False,
          loss_fn=None) -> PruneReport:
    """Algorithm 1: at initialization, score the connections on one mini-batch and keep the
    kappa most sensitive, once. Then train the sparse network as usual.

    ``sparsity``: the paper's kappa-bar = (m - kappa) / m in [0, 1), or ``kappa``, the number
    of connections to keep. ``include_bias=True`` ranks the biases with the weights, as the
    official code does (biases start at 0, so their g is 0 and they are all removed unless
    kappa exceeds the nonzero scores). Returns the per-layer :class:`PruneReport`; a layer
    left with no connection, or no path from input to output, is also a RuntimeWarning.
    ``pruners.prune`` runs the same steps with another method's scores.
    """
    if include_bias:
        add_bias_masks(model)
    kappa = kappa_from(count(model), sparsity=sparsity, kappa=kappa)     # m -> kappa
    s = connection_sensitivity(model, inputs, targets, loss_fn).s       # Eq. 5-6, at init
    keep = top_kappa(s, kappa)                                          # Eq. 7
    apply(model, keep)                                                  # c := keep, w := c * w
    return prune_report(model, "snip", keep)
