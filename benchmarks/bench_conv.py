"""Convolution benchmarks, minisnip vs PyTorch CPU in the same process (same threads, batch).

    python benchmarks/bench_conv.py [--threads 2] [--repeats 20] [--skip-vgg]

1. LeNet-5-Caffe training step (batch 100, forward + backward + SGD), ratio to PyTorch.
2. Conv kernel throughput: GFLOP/s of conv2d forward vs NumPy's BLAS on the same im2col GEMM.
3. One VGG-like training step at batch 128 on CIFAR-sized input: time and peak memory.
Writes benchmarks/results/conv.json.
"""
from __future__ import annotations

import argparse
import os
import resource
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from benchmarks.common import (machine_info, minisnip_step, set_threads, time_calls,  # noqa: E402
                               torch_step, write_result)


def torch_lenet5(threads):
    import torch
    torch.set_num_threads(threads)
    nn = torch.nn
    model = nn.Sequential(nn.Conv2d(1, 20, 5), nn.MaxPool2d(2), nn.Conv2d(20, 50, 5),
                          nn.MaxPool2d(2), nn.Flatten(), nn.Linear(800, 500), nn.ReLU(),
                          nn.Linear(500, 10))
    return model, list(model.parameters())


def conv_throughput(repeats):
    import numpy as np
    from minisnip.kernels import conv
    rng = np.random.default_rng(0)
    rows = []
    for (n, c, h, oc, k) in [(100, 1, 28, 20, 5), (100, 20, 12, 50, 5), (128, 64, 32, 64, 3)]:
        x = rng.standard_normal((n, c, h, h)).astype(np.float32)
        w = rng.standard_normal((oc, c, k, k)).astype(np.float32)
        oh = h - k + 1
        flops = 2 * n * oc * c * k * k * oh * oh
        cols = conv.im2col(x, k, k, 1, 0)
        t_conv = time_calls(lambda: conv.conv2d_forward(x, w, 1, 0), repeats)["median_s"]
        t_gemm = time_calls(lambda: w.reshape(oc, -1) @ cols, repeats)["median_s"]
        rows.append(dict(shape=[n, c, h, h], weight=[oc, c, k, k], conv_gflops=flops / t_conv / 1e9,
                         blas_gemm_gflops=flops / t_gemm / 1e9))
        print(f"conv x{(n, c, h, h)} w{(oc, c, k, k)}: minisnip conv2d {flops / t_conv / 1e9:6.1f} "
              f"GFLOP/s (im2col included), NumPy GEMM on the im2col matrix {flops / t_gemm / 1e9:6.1f}")
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--skip-vgg", action="store_true")
    args = parser.parse_args()
    set_threads(args.threads)
    import numpy as np
    rng = np.random.default_rng(0)
    x = rng.standard_normal((100, 1, 28, 28)).astype(np.float32)
    y = rng.integers(0, 10, 100).astype(np.int64)
    results = dict(lenet5={})
    import minisnip
    results["lenet5"]["minisnip"] = time_calls(minisnip_step("lenet5", x, y)[0], args.repeats)
    minisnip.config.set_matmul_backend("blas")
    results["lenet5"]["minisnip-blas"] = time_calls(minisnip_step("lenet5", x, y)[0], args.repeats)
    minisnip.config.set_matmul_backend("numba")
    results["conv_throughput"] = conv_throughput(max(args.repeats // 2, 3))
    if not args.skip_vgg:
        xv = rng.standard_normal((128, 3, 32, 32)).astype(np.float32)
        yv = rng.integers(0, 10, 128).astype(np.int64)
        import tracemalloc
        step, _ = minisnip_step("vgg-like", xv, yv, lr=0.1)
        tracemalloc.start()
        timing = time_calls(step, repeats=2, warmup=0)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        results["vgg_like_step_batch128"] = dict(timing, peak_traced_mb=peak / 1e6,
                                                 max_rss_mb=resource.getrusage(
                                                     resource.RUSAGE_SELF).ru_maxrss / 1e3)
        print(f"VGG-like step, batch 128: {timing['median_s']:.2f} s, peak NumPy memory "
              f"{peak / 1e6:.0f} MB")
    # PyTorch last: once its thread pool has run, Numba's parallel kernels measured slower
    try:
        model, params = torch_lenet5(args.threads)
        results["lenet5"]["torch"] = time_calls(torch_step(model, params, x, y), args.repeats)
        ratio = results["lenet5"]["minisnip"]["median_s"] / results["lenet5"]["torch"]["median_s"]
        results["lenet5"]["ratio_blas_backend_to_torch"] = (
            results["lenet5"]["minisnip-blas"]["median_s"] / results["lenet5"]["torch"]["median_s"])
    except ImportError:
        ratio = float("nan")
        print("PyTorch not installed: no comparison")
    results["lenet5"]["ratio_to_torch"] = ratio
    for name, r in results["lenet5"].items():
        if isinstance(r, dict):
            print(f"LeNet-5-Caffe step {name:9s} first {r['first_call_s'] * 1e3:8.1f} ms, "
                  f"warm median {r['median_s'] * 1e3:8.2f} ms")
    print(f"LeNet-5-Caffe step ratio minisnip / PyTorch: {ratio:.2f}x (Numba kernels), "
          f"{results['lenet5'].get('ratio_blas_backend_to_torch', float('nan')):.2f}x "
          f"(MINISNIP_MATMUL=blas)")
    path = write_result("conv", dict(machine=machine_info(args.threads), results=results))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
