"""Iterative SNIP and FORCE: de Jorge, Sanyal, Behl, Torr, Rogez & Dokania, "Progressive
Skeletonization: Trimming more fat from a network at initialization" (ICLR 2021).

SNIP scores every connection once, at c = 1, and removes most of them at once; but after
pruning, the gradients of the pruned network are not those of the dense one. The paper asks
for the mask whose *own* connection sensitivity is largest, the foresight connection
sensitivity (FORCE) of the network c * w, and approaches it by pruning in rounds, re-scoring
the network as it is after each round (the exponential schedule of ``iterative.py``). Both
procedures score with SNIP's connection sensitivity taken at the current mask c (the network
c * w, in eval mode, on the pruning batch): g = dL/dc = w * dL/dtheta at theta = c * w.

* **Iterative SNIP** ("progressive pruning"): the saliency of the pruned network itself,
  |theta * dL/dtheta| = |c * g|, over the connections still kept; a pruned connection has
  saliency 0 and never comes back.
* **FORCE** ("progressive sparsification"): |w * dL/dtheta| = |g|, with the *original* weight w,
  for every connection, pruned or not: a connection pruned earlier has a nonzero saliency
  (the change of loss if it were put back) and may come back.

At c = 1 both are SNIP's score, so their first round is SNIP at k_1 (tested, as is a single
round being SNIP itself). The scores are normalized as SNIP's (Eq. 6: divided by the sum of
|g|), which changes no ranking and makes that equality exact. Every round scores the same
mini-batch (the pruning batch, as every method here; the authors' code may draw several).
"""
from __future__ import annotations

import numpy as np

from ..snip import connection_sensitivity

ROUNDS = 60  # the authors' published commands (--num_steps 60, --mode exp)


def iter_snip_scores(model, batch, rng, loss_fn, keep) -> list:
    """|c * g| / sum|g| at c = keep: the connection sensitivity of the pruned network, 0 for
    the pruned connections (which do not compete: ``Iterative(revives=False)``)."""
    s = connection_sensitivity(model, *batch, loss_fn=loss_fn, at=keep).s
    return [np.where(k, sj, 0) for k, sj in zip(keep, s)]


def force_scores(model, batch, rng, loss_fn, keep) -> list:
    """|g| / sum|g| at c = keep, g = dL/dc = w * dL/dtheta: every connection, pruned or not,
    scored with its original weight (``Iterative(revives=True)``)."""
    return connection_sensitivity(model, *batch, loss_fn=loss_fn, at=keep).s
