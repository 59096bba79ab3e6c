"""LeNet-300-100 training step (batch 100: forward + backward + SGD update), minisnip vs PyTorch.

    python benchmarks/bench_step.py [--threads 2] [--repeats 200] [--backend numba|blas|both]

Both frameworks run in this one process with the same thread count, batch and data, so the
ratio is meaningful on a shared, noisy machine. The first call (Numba compile, or load from
its cache) is reported apart from the warm median. Writes benchmarks/results/step_lenet300.json.
"""
from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from benchmarks.common import (machine_info, minisnip_step, set_threads, time_calls,  # noqa: E402
                               torch_step, write_result)


def torch_lenet300(threads):
    import torch
    torch.set_num_threads(threads)
    nn = torch.nn
    model = nn.Sequential(nn.Linear(784, 300), nn.ReLU(), nn.Linear(300, 100), nn.ReLU(),
                          nn.Linear(100, 10))
    return model, list(model.parameters())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=200)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--backend", default="both", choices=["numba", "blas", "both"])
    args = parser.parse_args()
    set_threads(args.threads)
    import numpy as np
    rng = np.random.default_rng(0)
    x = rng.standard_normal((args.batch, 784)).astype(np.float32)
    y = rng.integers(0, 10, args.batch).astype(np.int64)

    results = {}
    backends = ["numba", "blas"] if args.backend == "both" else [args.backend]
    import minisnip
    for backend in backends:
        minisnip.config.set_matmul_backend(backend)
        step, _ = minisnip_step("lenet300", x, y)
        results[f"minisnip-{backend}"] = time_calls(step, args.repeats)
    minisnip.config.set_matmul_backend("numba")
    try:
        model, params = torch_lenet300(args.threads)
        results["torch"] = time_calls(torch_step(model, params, x, y), args.repeats)
    except ImportError:
        print("PyTorch is not installed: no comparison (pip install torch==2.13.0)")

    print(f"LeNet-300-100 training step, batch {args.batch}, {args.threads} threads")
    print(f"{'implementation':18s} {'first call':>12s} {'warm median':>12s} {'vs torch':>9s}")
    for name, r in results.items():
        ratio = r["median_s"] / results["torch"]["median_s"] if "torch" in results else float("nan")
        r["ratio_to_torch"] = ratio
        print(f"{name:18s} {r['first_call_s'] * 1e3:10.1f}ms {r['median_s'] * 1e3:10.3f}ms "
              f"{ratio:8.2f}x")
    path = write_result("step_lenet300", dict(benchmark="lenet300 training step", batch=args.batch,
                                              machine=machine_info(args.threads), results=results))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
