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
from benchmarks.common import machine_info, set_threads, time_calls, write_result  # noqa: E402


def minisnip_step(backend: str, x, y, sparsity=None):
    import numpy as np
    import minisnip
    from minisnip import functional as F, optim
    from minisnip.models import build_model
    from minisnip.nn import init
    minisnip.config.set_matmul_backend(backend)
    model = build_model("lenet300")
    init.initialize(model, "vs-x", rng=np.random.default_rng(0))
    if sparsity:
        from minisnip.snip import prune
        prune(model, x, y, sparsity)
    opt = optim.SGD(list(model.parameters()), lr=0.01, momentum=0.9, weight_decay=5e-4)
    xt = minisnip.Tensor(x)

    def step():
        loss = F.cross_entropy(model(xt), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return step


def torch_step(x, y, threads):
    import torch
    torch.set_num_threads(threads)
    model = torch.nn.Sequential(torch.nn.Linear(784, 300), torch.nn.ReLU(),
                                torch.nn.Linear(300, 100), torch.nn.ReLU(),
                                torch.nn.Linear(100, 10))
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    lossf = torch.nn.CrossEntropyLoss()

    def step():
        loss = lossf(model(xt), yt)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return step


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
    for backend in backends:
        results[f"minisnip-{backend}"] = time_calls(minisnip_step(backend, x, y), args.repeats)
    try:
        results["torch"] = time_calls(torch_step(x, y, args.threads), args.repeats)
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
