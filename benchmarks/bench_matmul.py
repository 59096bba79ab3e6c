"""Matmul GFLOP/s: minisnip's Numba kernel vs NumPy's `@` (OpenBLAS) on the products of a
LeNet-300-100 training step at batch 100 (forward, input gradient, weight gradient).

    python benchmarks/bench_matmul.py [--threads 2] [--repeats 50]

The operands are laid out as the engine passes them (W stored (out, in), so the forward's
right operand is a transposed view; the weight gradient's left operand is grad.T). The first
call (compile, or load from Numba's cache) is reported apart. Writes
benchmarks/results/matmul.json.
"""
from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from benchmarks.common import machine_info, set_threads, time_calls, write_result  # noqa: E402

LAYERS = [(784, 300), (300, 100), (100, 10)]


def products(batch, rng):
    import numpy as np
    out = []
    for fan_in, fan_out in LAYERS:
        x = rng.standard_normal((batch, fan_in)).astype(np.float32)
        w = rng.standard_normal((fan_out, fan_in)).astype(np.float32)
        g = rng.standard_normal((batch, fan_out)).astype(np.float32)
        out.append((f"forward  x{x.shape} @ W.T{w.T.shape}", x, w.T))
        out.append((f"dL/dx    g{g.shape} @ W{w.shape}", g, w))
        out.append((f"dL/dW    g.T{g.T.shape} @ x{x.shape}", g.T, x))
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=50)
    parser.add_argument("--batch", type=int, default=100)
    args = parser.parse_args()
    set_threads(args.threads)
    import numpy as np
    from minisnip.kernels.matmul import matmul
    rows = []
    print(f"{'product':40s} {'kernel GFLOP/s':>15s} {'NumPy GFLOP/s':>14s} {'ratio':>6s} {'first call':>11s}")
    for name, a, b in products(args.batch, np.random.default_rng(0)):
        flops = 2 * a.shape[0] * a.shape[1] * b.shape[1]
        k = time_calls(lambda: matmul(a, b), args.repeats)
        n = time_calls(lambda: a @ b, args.repeats)
        row = dict(product=name, m=a.shape[0], k=a.shape[1], n=b.shape[1],
                   kernel_gflops=flops / k["median_s"] / 1e9, numpy_gflops=flops / n["median_s"] / 1e9,
                   kernel_first_call_s=k["first_call_s"], kernel_median_s=k["median_s"],
                   numpy_median_s=n["median_s"])
        rows.append(row)
        print(f"{name:40s} {row['kernel_gflops']:15.1f} {row['numpy_gflops']:14.1f} "
              f"{row['numpy_gflops'] / row['kernel_gflops']:5.1f}x {k['first_call_s']:10.3f}s")
    path = write_result("matmul", dict(machine=machine_info(args.threads), batch=args.batch,
                                       products=rows))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
