"""The experiments that check minisnip against PyTorch: the paper's networks on Fashion-MNIST,
dense and pruned with SNIP, beside a PyTorch run of the same protocol.

The reference (:mod:`.pytorch_reference`) holds that run's test errors (%), per seed. The
protocol is the one of ``train.PROTOCOLS`` on full Fashion-MNIST, 10 epochs.
"""
from __future__ import annotations

from .pytorch_reference import PYTORCH_REFERENCE, PYTORCH_SOURCE, reference_of  # noqa: F401
from .registry import Experiment, grid, register

register(Experiment(
    name="lenet300-fashion",
    title="LeNet-300-100 on Fashion-MNIST: SNIP against random pruning",
    description="LeNet-300-100 pruned once at initialization, by SNIP or at random, to 90-99% "
                "sparsity, then trained with the protocol; the dense network for comparison. "
                "The paper's Table 1 setting, on Fashion-MNIST.",
    runs=grid(models=("lenet300",), sparsities=(0.0, 0.9, 0.95, 0.98, 0.99), seeds=(0, 1),
              pruners=("snip", "random")),
    reference=reference_of("lenet300"), reference_source=PYTORCH_SOURCE,
    reference_name="PyTorch reference", reference_dataset="fashion-mnist", tolerance=0.8))

register(Experiment(
    name="lenet5-fashion",
    title="LeNet-5-Caffe on Fashion-MNIST: dense and SNIP",
    description="LeNet-5-Caffe, dense and pruned by SNIP to 95-99% sparsity, trained with the "
                "protocol at lr 0.01 (at lr 0.1 the dense network diverges under this "
                "initialization).",
    runs=grid(models=("lenet5",), sparsities=(0.0, 0.95, 0.98, 0.99), seeds=(0,)),
    reference=reference_of("lenet5"), reference_source=PYTORCH_SOURCE,
    reference_name="PyTorch reference", reference_dataset="fashion-mnist", tolerance=0.8))

register(Experiment(
    name="rnn-fashion",
    title="LSTM-s and GRU-s on sequential Fashion-MNIST: dense and SNIP at 95%",
    description="LSTM-s and GRU-s reading Fashion-MNIST images row by row (28 steps of 28 "
                "pixels), dense and pruned by SNIP to 95% sparsity, trained with Adam (lr 1e-3, "
                "no weight decay).",
    runs=grid(models=("lstm-s", "gru-s"), sparsities=(0.0, 0.95), seeds=(0,)),
    reference=reference_of("lstm-s", "gru-s"), reference_source=PYTORCH_SOURCE,
    reference_name="PyTorch reference", reference_dataset="fashion-mnist", tolerance=1.0))
