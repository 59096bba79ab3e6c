"""Pruning at initialization beside SNIP, on one interface, with the sanity checks.

A **scorer** maps a model (and, if it looks at data, one mini-batch) to one score array per
prunable weight, in ``model.named_masks()`` order; **larger means keep**:

    scorer(model, batch, rng, loss_fn) -> [score array shaped like each mask, ...]

``batch`` is ``(inputs, targets)``, or a list of such pairs when one scoring batch is scored in
pieces (``prune(batches=...)``; ``train.scoring_pieces`` makes them for a large |D^b|).

Every method then keeps exactly kappa connections with the one shared selection,
``snip.top_kappa`` (Eq. 7's rule, ties to the lower global index). ``prune`` below is
Algorithm 1 with the method's scores in place of SNIP's.

Single-shot methods (``SCORERS``) score once, at c = 1: SNIP, GraSP, magnitude, random.
Iterative methods (``ITERATIVE``, see ``pai/iterative.py``) score the network at its current
mask in several rounds, selecting exactly k_t with the same ``top_kappa`` at each round:
SynFlow and iterative SNIP (pruned connections never come back) and FORCE (they may).
Adding a method: a single-shot one is a scorer in ``SCORERS``; an iterative one is an
``Iterative(score, revives, rounds, paper)`` in ``ITERATIVE``, whose ``score`` also receives
the current mask ``keep``. ``methods()`` (and so ``--pruner``) then lists it with its checks.

The sanity checks of Frankle et al., "Pruning Neural Networks at Initialization: Why Are We
Missing the Mark?" (ICLR 2021) apply to any method, by a suffix of its name: if the method's
masks carry information, each of these should hurt.

* ``METHOD-inverted``: the ranking reversed (the scores negated: the kappa *lowest* are kept;
  for an iterative method, the lowest at every round: see ``pai/iterative.py``);
* ``METHOD-shuffled``: the method's per-layer counts, positions within each layer random;
  this *is* "random pruning with the method's per-layer densities" (see
  :func:`shuffle_within_layers`), so there is no separate method for it;
* ``METHOD-reinit``: the method's mask, the kept weights drawn afresh from the model's
  initialization scheme.
"""
from __future__ import annotations

import numpy as np

from .masks import add_bias_masks, apply, count, prunable
from .pai.force import ROUNDS as FORCE_ROUNDS, force_scores, iter_snip_scores
from .pai.grasp import grasp_scores
from .pai.iterative import Iterative, check_rounds, prune_iteratively
from .pai.synflow import ROUNDS as SYNFLOW_ROUNDS, synflow_scores
from .report import PruneReport, prune_report
from .snip import connection_sensitivity, kappa_from, top_kappa


# -------------------------------------------------------------------------- scorers
def snip_scores(model, batch, rng, loss_fn=None) -> list:
    """The paper: connection sensitivity s = |g| / sum|g| (Eq. 5-6); pieces of one batch
    (a list of pairs) have their signed g summed before |.| is taken."""
    if isinstance(batch, list):
        return connection_sensitivity(model, batches=batch, loss_fn=loss_fn).s
    return connection_sensitivity(model, *batch, loss_fn=loss_fn).s


def random_scores(model, batch, rng, loss_fn=None) -> list:
    """Uniform random scores: kappa connections chosen uniformly over the whole network."""
    return [rng.random(c.shape) for _, _, c in prunable(model)]


def magnitude_scores(model, batch, rng, loss_fn=None) -> list:
    """|w| at initialization (no data needed)."""
    return [np.abs(w.data) for _, w, _ in prunable(model)]


SCORERS = {                      # single-shot: one score, at c = 1
    "snip": snip_scores,
    "grasp": grasp_scores,       # pai/grasp.py: theta * Hg, the sign explained there
    "magnitude": magnitude_scores,
    "random": random_scores,
}
ITERATIVE = {                    # several rounds, each scoring the network at its current mask
    "synflow": Iterative(synflow_scores, revives=False, rounds=SYNFLOW_ROUNDS,
                         paper="Tanaka et al., NeurIPS 2020 (pai/synflow.py)"),
    "iter-snip": Iterative(iter_snip_scores, revives=False, rounds=FORCE_ROUNDS,
                           paper="de Jorge et al., ICLR 2021 (pai/force.py)"),
    "force": Iterative(force_scores, revives=True, rounds=FORCE_ROUNDS,
                       paper="de Jorge et al., ICLR 2021 (pai/force.py)"),
}
SANITY_CHECKS = ("inverted", "shuffled", "reinit")


def methods() -> list:
    """Every name ``prune(method=...)`` takes: each method, and each with each sanity check."""
    bases = list(SCORERS) + list(ITERATIVE)
    return bases + [f"{base}-{check}" for base in bases for check in SANITY_CHECKS]


def parse_method(method: str) -> tuple:
    """``"snip-shuffled"`` -> ``("snip", "shuffled")``; ``"iter-snip"`` -> ``("iter-snip",
    None)``."""
    known = set(SCORERS) | set(ITERATIVE)
    base, _, check = method.rpartition("-")
    if base in known and check in SANITY_CHECKS:
        return base, check
    if method in known:
        return method, None
    raise ValueError(f"unknown pruning method {method!r}; expected one of "
                     f"{', '.join(methods())}")


# ------------------------------------------------------------------- sanity checks
def shuffle_within_layers(keep: list, rng) -> list:
    """The same number of kept connections in every layer, at random positions.

    A uniformly random permutation of a layer's mask makes every set of k_l positions equally
    likely (tested), so this is also Frankle et al.'s baseline "random pruning with the same
    per-layer densities": the two are one distribution, and one function.
    """
    return [rng.permutation(k.ravel()).reshape(k.shape) for k in keep]


def reinitialize_kept(model, scheme: str, rng) -> None:
    """Draw every prunable weight afresh from ``scheme`` (then ``w := c * w``): the kept
    connections stay, their initial values change. Biases are left as they are."""
    from .nn.init import sample
    for _, module in model.named_modules():
        for name in module._masks:
            w = module._parameters[name]
            if w.ndim >= 2:
                w.data[...] = sample(scheme, w.shape, rng, getattr(module, "_gates", 1))
                w.data *= w.mask.data


# -------------------------------------------------------------------- Algorithm 1
def prune(model, inputs=None, targets=None, sparsity=None, *, method: str = "snip", kappa=None,
          rng=None, include_bias: bool = False, loss_fn=None, init_scheme=None,
          batches=None, rounds=None) -> PruneReport:
    """Algorithm 1 with any method's scores: m -> kappa, score, keep the top kappa, apply.

    ``method``: a name of :func:`methods` (a method, optionally with a sanity-check suffix).
    ``inputs, targets``: the one mini-batch for methods that look at data (SynFlow reads only
    the inputs' shape), or, for SNIP, ``batches``: that mini-batch in pieces, ``[(inputs,
    targets), ...]`` (with a ``loss_fn`` that weights each piece, see
    ``train.scoring_pieces``). ``rng``: a ``np.random.Generator`` or a seed, for the methods
    and checks that draw random numbers. ``init_scheme``: the initialization to re-draw from
    for ``-reinit`` (default: the scheme ``nn.init.initialize`` recorded on the model).
    ``rounds``: the number of rounds of an iterative method (default: its paper's). Other
    arguments as ``snip.prune``, which this equals for ``method="snip"``.
    """
    base, check = parse_method(method)
    if rounds is not None:
        if base not in ITERATIVE:
            raise ValueError(f"{base} scores once (single-shot): rounds= is for the iterative "
                             f"methods {', '.join(ITERATIVE)}")
        check_rounds(rounds)
    rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    if check == "reinit":
        init_scheme = _reinit_scheme(model, init_scheme)
    if include_bias:
        add_bias_masks(model)
    kappa = kappa_from(count(model), sparsity=sparsity, kappa=kappa)
    if batches is not None and (inputs is not None or targets is not None):
        raise ValueError("prune: give inputs and targets (one mini-batch) or batches= (its "
                         "pieces), not both")
    if batches is not None and base != "snip":
        raise ValueError(f"prune: {method} scores one mini-batch; scoring in pieces (a whole "
                         f"training split, --prune-batch all) is implemented for snip only")
    batch = list(batches) if batches is not None else (inputs, targets)
    if base in ITERATIVE:
        keep = prune_iteratively(ITERATIVE[base], model, batch, rng, loss_fn, kappa,
                                 rounds=rounds, inverted=check == "inverted")
    else:
        scores = SCORERS[base](model, batch, rng, loss_fn)
        if check == "inverted":
            scores = [-np.asarray(s, dtype=np.float64) for s in scores]
        keep = top_kappa(scores, kappa)
    if check == "shuffled":
        keep = shuffle_within_layers(keep, rng)
    apply(model, keep)
    if check == "reinit":
        reinitialize_kept(model, init_scheme, rng)
    return prune_report(model, method, keep)


def _reinit_scheme(model, scheme):
    from .nn.init import SCHEMES
    scheme = scheme or getattr(model, "init_scheme", None)
    if scheme is None:
        raise ValueError("the -reinit sanity check re-draws the kept weights from the model's "
                         "initialization, but none is known: initialize the model with "
                         "nn.init.initialize (which records it) or pass init_scheme=")
    if scheme not in SCHEMES:
        raise ValueError(f"unknown initialization {scheme!r}; expected one of "
                         f"{', '.join(SCHEMES)}")
    return scheme
