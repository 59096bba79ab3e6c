"""How long an epoch of a CIFAR-10 network of Table 2 takes here: an *estimate*, from a few
timed SGD steps at batch 128 extrapolated to an epoch (and evaluation timed on one batch),
because a measured epoch of VGG or WRN takes hours on a CPU.

    python -m minisnip.experiments.epoch_time                 # every CIFAR-10 network of Table 2
    NUMBA_NUM_THREADS=1 python -m minisnip.experiments.epoch_time wrn-16-8

Prints one JSON line per network: seconds per step, steps per epoch, evaluation seconds per
image and the estimated seconds per epoch. Registers no experiment (safe to run as a module).
"""
from __future__ import annotations

import statistics

from .table2 import CIFAR_BATCH, CIFAR_SPARSITY, CIFAR_TRAIN_IMAGES


def time_per_epoch(model: str, batch: int = CIFAR_BATCH, steps: int = 3,
                   images: int = CIFAR_TRAIN_IMAGES, evaluated: int = 15_000) -> dict:
    """An *estimate* of one training epoch of ``model`` on CIFAR-sized inputs at the current
    thread count: the median time of ``steps`` SGD steps at ``batch`` (after one warm-up
    step), times the steps of an epoch over ``images``, plus the time to evaluate
    ``evaluated`` images (validation and test) measured on one batch. Random inputs: the time
    does not depend on the pixels."""
    import time

    import numpy as np

    from .. import functional as F, optim
    from ..models import build_model
    from ..nn import init
    from ..tensor import Tensor
    from ..train import evaluate
    network = build_model(model)
    init.initialize(network, "vs-x", rng=np.random.default_rng(0))
    rng = np.random.default_rng(0)
    x = rng.standard_normal((batch, 3, 32, 32)).astype(np.float32)
    y = rng.integers(0, 10, batch)
    optimizer = optim.SGD(list(network.parameters()), lr=0.1, momentum=0.9, weight_decay=5e-4)
    times = []
    for _ in range(steps + 1):
        started = time.perf_counter()
        loss = F.cross_entropy(network(Tensor(x)), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        times.append(time.perf_counter() - started)
    started = time.perf_counter()
    evaluate(network, x, y, batch_size=batch)
    per_image = (time.perf_counter() - started) / batch
    step = statistics.median(times[1:])
    epoch_steps = -(-images // batch)
    return dict(model=model, batch=batch, steps_timed=steps, seconds_per_step=step,
                steps_per_epoch=epoch_steps, eval_seconds_per_image=per_image,
                estimated_seconds_per_epoch=step * epoch_steps + per_image * evaluated)


def main(argv=None) -> int:
    """``python -m minisnip.experiments.epoch_time [MODEL ...]``: the per-epoch estimate of
    each CIFAR-10 network of Table 2 (all of them by default) as JSON lines."""
    import json
    import sys
    models = list(argv if argv is not None else sys.argv[1:]) or list(CIFAR_SPARSITY)
    for model in models:
        print(json.dumps(time_per_epoch(model)), flush=True)
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
