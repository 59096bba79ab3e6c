"""The experiments that check minisnip against PyTorch: the paper's networks on Fashion-MNIST,
dense and pruned with SNIP, beside a PyTorch run of the same protocol.

``PYTORCH_REFERENCE`` holds that run's test errors (%), per seed, as
``{(model, pruner, sparsity): {seed: error}}`` (pruner ``"dense"`` for the unpruned network).
The protocol is the one of ``train.PROTOCOLS`` on full Fashion-MNIST, 10 epochs.
"""
from __future__ import annotations

from .registry import Experiment, grid, register

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


def _reference(*models):
    return {key: errors for key, errors in PYTORCH_REFERENCE.items() if key[0] in models}


register(Experiment(
    name="lenet300-fashion",
    title="LeNet-300-100 on Fashion-MNIST: SNIP against random pruning",
    description="LeNet-300-100 pruned once at initialization, by SNIP or at random, to 90-99% "
                "sparsity, then trained with the protocol; the dense network for comparison. "
                "The paper's Table 1 setting, on Fashion-MNIST.",
    runs=grid(models=("lenet300",), sparsities=(0.0, 0.9, 0.95, 0.98, 0.99), seeds=(0, 1),
              pruners=("snip", "random")),
    reference=_reference("lenet300"), reference_source=PYTORCH_SOURCE,
    reference_name="PyTorch reference", reference_dataset="fashion-mnist", tolerance=0.8))

register(Experiment(
    name="lenet5-fashion",
    title="LeNet-5-Caffe on Fashion-MNIST: dense and SNIP",
    description="LeNet-5-Caffe, dense and pruned by SNIP to 95-99% sparsity, trained with the "
                "protocol at lr 0.01 (at lr 0.1 the dense network diverges under this "
                "initialization).",
    runs=grid(models=("lenet5",), sparsities=(0.0, 0.95, 0.98, 0.99), seeds=(0,)),
    reference=_reference("lenet5"), reference_source=PYTORCH_SOURCE,
    reference_name="PyTorch reference", reference_dataset="fashion-mnist", tolerance=0.8))

register(Experiment(
    name="rnn-fashion",
    title="LSTM-s and GRU-s on sequential Fashion-MNIST: dense and SNIP at 95%",
    description="LSTM-s and GRU-s reading Fashion-MNIST images row by row (28 steps of 28 "
                "pixels), dense and pruned by SNIP to 95% sparsity, trained with Adam (lr 1e-3, "
                "no weight decay).",
    runs=grid(models=("lstm-s", "gru-s"), sparsities=(0.0, 0.95), seeds=(0,)),
    reference=_reference("lstm-s", "gru-s"), reference_source=PYTORCH_SOURCE,
    reference_name="PyTorch reference", reference_dataset="fashion-mnist", tolerance=1.0))
