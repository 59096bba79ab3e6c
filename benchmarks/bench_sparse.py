"""Sparse kernels after pruning: a LeNet-300-100 training step (batch 100) with SNIP masks at
several sparsities, computed densely (c * w) and with the sparse kernels, against dense
PyTorch in the same process and thread count.

    python benchmarks/bench_sparse.py [--threads 2] [--repeats 50]

Writes benchmarks/results/sparse.json.
"""
from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from benchmarks.common import (machine_info, minisnip_step, set_threads, time_calls,  # noqa: E402
                               torch_step, write_result)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=50)
    args = parser.parse_args()
    set_threads(args.threads)
    import numpy as np
    rng = np.random.default_rng(0)
    x = rng.standard_normal((100, 784)).astype(np.float32)
    y = rng.integers(0, 10, 100).astype(np.int64)
    results = {}
    print(f"{'sparsity':>8s} {'dense c*w':>11s} {'sparse':>9s} {'sparse/torch':>13s}")
    for sparsity in (0.9, 0.95, 0.98, 0.99):
        dense_step, _ = minisnip_step("lenet300", x, y, sparsity=sparsity)
        sparse_step, model = minisnip_step("lenet300", x, y, sparsity=sparsity)
        for layer in (model.fc1, model.fc2, model.fc3):
            layer.use_sparse_kernel()
        results[f"sparsity {sparsity}"] = dict(
            dense_s=time_calls(dense_step, args.repeats)["median_s"],
            sparse_s=time_calls(sparse_step, args.repeats)["median_s"])
    # PyTorch last: once its thread pool has run, Numba's parallel kernels measured slower
    try:
        import torch
        torch.set_num_threads(args.threads)
        nn = torch.nn
        model = nn.Sequential(nn.Linear(784, 300), nn.ReLU(), nn.Linear(300, 100), nn.ReLU(),
                              nn.Linear(100, 10))
        results["torch-dense"] = time_calls(torch_step(model, list(model.parameters()), x, y),
                                            args.repeats)["median_s"]
    except ImportError:
        print("PyTorch not installed: no comparison")
    for sparsity in (0.9, 0.95, 0.98, 0.99):
        row = results[f"sparsity {sparsity}"]
        if "torch-dense" in results:
            row["sparse_ratio_to_torch_dense"] = row["sparse_s"] / results["torch-dense"]
        print(f"{sparsity:8.2f} {row['dense_s'] * 1e3:9.3f}ms {row['sparse_s'] * 1e3:7.3f}ms "
              f"{row.get('sparse_ratio_to_torch_dense', float('nan')):12.2f}x")
    if "torch-dense" in results:
        print(f"PyTorch dense step: {results['torch-dense'] * 1e3:.3f} ms")
    path = write_result("sparse", dict(machine=machine_info(args.threads), batch=100,
                                       results=results))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
