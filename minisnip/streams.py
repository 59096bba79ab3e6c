"""The random streams of a run: one seed, one independent NumPy stream per use.

A run's seed fixes everything random in it, and each use draws from its own stream
``np.random.default_rng([seed, key])``, so that changing one use (say, scoring on a larger
batch) leaves the others (the initialization, the data order) as they were, and a resumed run
draws exactly what an uninterrupted one would without storing any generator state.

==================  =========  ===========================================================
stream              key        used for
==================  =========  ===========================================================
``INIT``            0          the initial weights (``nn.init.initialize``)
``PRUNE_BATCH``     1          which training images form the pruning mini-batch
``PRUNER``          2          the pruning method's own draws (random scores, shuffles, ...)
``SCORE_INIT``      3          the weights of the network that is scored, when ``score_init``
                               is set (scored on another draw than the one trained, Table 3)
``LABELS``          4          the permutation of the training labels, when
                               ``shuffled_labels`` (fitting random labels, Figure 4)
``VALIDATION``      7          which training images are held out for validation
``EPOCH``           100 + e    the order of the training data in epoch e (0-based)
==================  =========  ===========================================================
"""
from __future__ import annotations

import numpy as np

INIT, PRUNE_BATCH, PRUNER, SCORE_INIT, LABELS, VALIDATION, EPOCH = 0, 1, 2, 3, 4, 7, 100


def generator(seed: int, stream: int, epoch: int = 0) -> np.random.Generator:
    """The generator of ``stream`` for ``seed`` (for ``EPOCH``, of epoch ``epoch``)."""
    return np.random.default_rng([seed, stream + epoch])
