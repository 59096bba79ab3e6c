"""Iterative pruning at initialization: reach kappa in several rounds, re-scoring the network
as it is pruned (SynFlow, iterative SNIP, FORCE).

Round t of T: score the network *at its current mask*, keep the top k_t with the one shared
selection (``snip.top_kappa``: exactly k_t, ties to the lower global index), and that is the
new mask. The counts follow the exponential schedule (:func:`exponential_schedule`).

What separates the methods, besides their score, is **revival**: may a connection pruned in
an earlier round come back? SynFlow and iterative SNIP say no: only the connections still kept
compete, so the masks shrink monotonically. FORCE says yes: every connection competes at
every round, pruned or not.

**Inverting an iterative method** (the ``-inverted`` sanity check of Frankle et al.): the same
procedure with the opposite preference at every round. Each round negates the scores of the
candidates, so it keeps the k_t *lowest*-scoring of them; the next round scores the network
that this produced. (Negating only the last round's scores would invert a ranking made on the
network the method itself chose, which is not the method's opposite.) The candidates are
chosen after the negation, so a method without revival stays without revival when inverted:
its pruned connections, whose scores are often 0, would otherwise rank first once negated.
"""
from __future__ import annotations

import dataclasses
import warnings
from typing import Callable, Optional

import numpy as np

from ..masks import prunable
from ..snip import top_kappa


def exponential_schedule(m: int, kappa: int, rounds: int) -> list:
    """The number of connections kept after each of ``rounds`` rounds, going from m to kappa:
    k_t = m (kappa / m)^(t / T) for t = 1..T, rounded to the nearest integer, k_T = kappa.

    Every round removes the same *fraction* of what is left. This is SynFlow's schedule
    (Tanaka et al., Algorithm 1: after round k of n, the compression is rho^(k/n) with
    rho = m / kappa) and FORCE's exponential decay (de Jorge et al., the sparsity schedule).
    The counts never increase (rounding is monotone), and kappa = 0 keeps 0 from the first round.
    """
    check_rounds(rounds)
    if not 0 <= kappa <= m:
        raise ValueError(f"exponential_schedule: kappa must be in [0, m = {m}], got {kappa}")
    fraction = kappa / m
    return [int(round(m * fraction ** (t / rounds))) for t in range(1, rounds)] + [int(kappa)]


def check_rounds(rounds) -> None:
    if isinstance(rounds, bool) or not isinstance(rounds, (int, np.integer)) or rounds < 1:
        raise ValueError(f"the number of pruning rounds must be an integer >= 1, got {rounds!r}")


@dataclasses.dataclass(frozen=True)
class Iterative:
    """An iterative pruning method.

    ``score(model, batch, rng, loss_fn, keep)`` returns one score array per prunable layer
    (``named_masks()`` order), larger = keep, computed for the network pruned by ``keep``
    (one boolean array per layer; all True in the first round). ``revives``: whether a
    connection pruned in an earlier round competes again. ``rounds``: the default number of
    rounds, part of the training protocol (a run's record says ``--pruner force``, not how
    many rounds: changing a default needs a new ``train.PROTOCOL_VERSION``). ``paper``: where
    the method comes from.
    """
    score: Callable
    revives: bool
    rounds: int
    paper: str


def prune_iteratively(method: Iterative, model, batch, rng, loss_fn, kappa: int, *,
                      rounds: Optional[int] = None, inverted: bool = False,
                      on_round: Optional[Callable] = None) -> list:
    """Run ``method`` for ``rounds`` rounds (default ``method.rounds``) down to ``kappa``
    connections; returns the final keep-masks (one boolean array per prunable layer).

    Nothing is written to the model: each round's scorer computes at the mask it is given.
    ``inverted``: keep the lowest-scoring candidates at every round (see the module's
    docstring). ``on_round(t, k_t, keep)`` is called after every round (to watch the masks
    evolve, as lesson 08 and the tests do).
    """
    layers = prunable(model)
    m = sum(c.data.size for _, _, c in layers)
    keep = [np.ones(c.shape, dtype=bool) for _, _, c in layers]
    schedule = exponential_schedule(m, kappa, method.rounds if rounds is None else rounds)
    silent = []                         # rounds in which every candidate scored 0
    for t, k in enumerate(schedule, start=1):
        with warnings.catch_warnings():     # said once below, for this loop, not per round
            warnings.filterwarnings("ignore", message="connection_sensitivity: dL/dc is 0",
                                    category=RuntimeWarning)
            scores = [np.asarray(s, dtype=np.float64)
                      for s in method.score(model, batch, rng, loss_fn, keep)]
        _check(scores, layers, t)
        if not any(np.any(s if method.revives else s[kept]) for s, kept in zip(scores, keep)):
            silent.append(t)
        if inverted:
            scores = [-s for s in scores]
        if not method.revives:          # only the connections still kept compete
            scores = [np.where(kept, s, -np.inf) for s, kept in zip(scores, keep)]
        new = top_kappa(scores, k)
        assert sum(int(n.sum()) for n in new) == k, "top_kappa kept the wrong number"
        assert method.revives or all(not np.any(n & ~kept) for n, kept in zip(new, keep)), \
            "a pruned connection came back in a method without revival"
        keep = new
        if on_round is not None:
            on_round(t, k, keep)
    if silent:
        warnings.warn(f"iterative pruning: in {len(silent)} of {len(schedule)} rounds (the first: "
                      f"round {silent[0]}) every candidate connection scored 0 (the mask left "
                      f"no path the score sees), so they kept connections by index (the tie "
                      f"rule)",
                      RuntimeWarning, stacklevel=3)
    return keep


def _check(scores, layers, t):
    if len(scores) != len(layers):
        raise ValueError(f"round {t}: the scorer returned {len(scores)} score arrays for "
                         f"{len(layers)} prunable layers")
    for s, (name, _, c) in zip(scores, layers):
        if s.shape != c.shape:
            raise ValueError(f"round {t}: scores of shape {s.shape} for {name}, whose mask has "
                             f"shape {c.shape}")
        if not np.all(np.isfinite(s)):
            raise ValueError(f"round {t}: the scores of {name} are not finite (an overflow?)")
