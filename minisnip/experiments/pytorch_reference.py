"""The PyTorch reference: the test errors of a PyTorch run of the same protocol as minisnip's
(full Fashion-MNIST, 10 epochs), per seed, for the summaries' reference column.

``PYTORCH_REFERENCE`` is ``{(model, pruner, sparsity): {seed: error %}}`` (pruner ``"dense"``
for the unpruned network); :func:`reference_of` keeps some models' entries.
"""
from __future__ import annotations

PYTORCH_SOURCE = "a PyTorch run of the same protocol (full Fashion-MNIST, 10 epochs), per seed"

PYTORCH_REFERENCE = {
    ("lenet300", "dense", 0.0): {0: 11.65, 1: 11.38},
    ("lenet300", "snip", 0.9): {0: 11.60, 1: 11.56},
    ("lenet300", "snip", 0.95): {0: 12.33, 1: 12.39},
    ("lenet300", "snip", 0.98): {0: 14.76, 1: 14.24},
    ("lenet300", "snip", 0.99): {0: 18.59, 1: 17.26},
    ("lenet5", "dense", 0.0): {0: 9.09, 1: 9.20},
    ("lenet5", "snip", 0.9): {0: 11.28, 1: 10.74},
    ("lenet5", "snip", 0.95): {0: 11.84, 1: 11.98},
    ("lenet5", "snip", 0.98): {0: 13.40, 1: 13.65},
    ("lenet5", "snip", 0.99): {0: 16.20, 1: 15.67},
    ("lstm-s", "dense", 0.0): {0: 10.65},
    ("lstm-s", "snip", 0.95): {0: 18.01},
    ("gru-s", "dense", 0.0): {0: 9.99},
    ("gru-s", "snip", 0.95): {0: 20.58},
}


def reference_of(*models):
    """The PyTorch reference of these models only."""
    return {key: errors for key, errors in PYTORCH_REFERENCE.items() if key[0] in models}
