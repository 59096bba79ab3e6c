"""How long an epoch of a CIFAR-10 network of Table 2 takes here: an *estimate*, from a few
timed SGD steps at batch 128 extrapolated to an epoch (and evaluation timed on one batch),
because a measured epoch of VGG or WRN takes hours on a CPU.

    python -m minisnip.experiments.epoch_time                 # every CIFAR-10 network of Table 2
    NUMBA_NUM_THREADS=1 python -m minisnip.experiments.epoch_time wrn-16-8 --batch 32

Prints one JSON line per network: seconds per step, steps per epoch, evaluation seconds per
image, the estimated seconds per epoch and the peak memory of the process that timed it. Registers no experiment (safe to run as a module).
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


def peak_rss_bytes() -> int:
    """This process's peak resident memory so far (Linux reports ``ru_maxrss`` in KiB)."""
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def parse_arguments(argv):
    """The command line, checked before anything is timed: every name must be a CIFAR-10
    network of Table 2 (the estimate feeds 3x32x32 images), steps and batch positive."""
    import argparse
    parser = argparse.ArgumentParser(
        prog="python -m minisnip.experiments.epoch_time",
        description="Estimate one CIFAR-10 training epoch of Table 2's networks from a few "
                    "timed SGD steps; one JSON line per network, with the process's peak "
                    "memory (each network is timed in a process of its own when several "
                    "are given, so that the peak is its own).")
    parser.add_argument("models", nargs="*", metavar="MODEL",
                        help="networks to time (default: all of "
                             + ", ".join(CIFAR_SPARSITY) + ")")
    parser.add_argument("--steps", type=int, default=3,
                        help="timed steps after one warm-up step (default 3)")
    parser.add_argument("--batch", type=int, default=CIFAR_BATCH,
                        help=f"batch size (default {CIFAR_BATCH}, the protocol's)")
    args = parser.parse_args(argv)
    unknown = [m for m in args.models if m not in CIFAR_SPARSITY]
    if unknown:
        parser.error(f"not a CIFAR-10 network of Table 2: {', '.join(unknown)}; "
                     f"expected one of {', '.join(CIFAR_SPARSITY)}")
    for name in ("steps", "batch"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be a positive integer, got {getattr(args, name)}")
    args.models = args.models or list(CIFAR_SPARSITY)
    return args


def main(argv=None) -> int:
    """``python -m minisnip.experiments.epoch_time [MODEL ...] [--steps N] [--batch B]``: the
    per-epoch estimate of each CIFAR-10 network of Table 2 (all of them by default) as JSON
    lines, each with ``peak_rss_bytes``, the peak memory of the process that timed it, and
    ``process``, the tunings it made as a training run makes them (``config.tune_process``)."""
    import json
    import subprocess
    import sys
    args = parse_arguments(sys.argv[1:] if argv is None else list(argv))
    if len(args.models) == 1:
        from ..config import tune_process
        process = tune_process()  # as a training run is tuned, so that it times one
        estimate = time_per_epoch(args.models[0], batch=args.batch, steps=args.steps)
        estimate.update(peak_rss_bytes=peak_rss_bytes(), process=process)
        print(json.dumps(estimate), flush=True)
        return 0
    failed = 0
    for model in args.models:
        failed |= subprocess.call([sys.executable, "-m", "minisnip.experiments.epoch_time",
                                   model, "--steps", str(args.steps),
                                   "--batch", str(args.batch)])
    return 1 if failed else 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
