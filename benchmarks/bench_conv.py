"""Issue 11, goal 1 (VGG part): the VGG-like training step at batch 128, minisnip against
PyTorch, its peak memory and where its time goes; and every convolution shape's throughput.

    python benchmarks/bench_conv.py [--batch 128] [--rounds 5] [--skip-layers] [--quick]

1. The VGG-like step (VGG-16 D convolutions with BatchNorm, fc 512-10, CIFAR-sized input,
   SGD), both frameworks holding the same weights, timed alternating (``common.py``):
   ratio minisnip / PyTorch.
2. Peak memory of a step, each framework in a fresh process: the process's peak resident
   memory during a step (``VmHWM``, reset through ``/proc/self/clear_refs``) above its
   resident memory with the model, optimizer state, batch and compiled kernels loaded; for
   minisnip also the peak of the NumPy allocations (``tracemalloc``; arrays allocated inside
   Numba kernels are not traced). Goal: <= 1 GB at batch 128.
3. Where minisnip's VGG step spends its time, per kernel (``breakdown.py``).
4. The convolution layers of LeNet-5-Caffe and of VGG-like alone, forward + backward, GFLOP/s
   of minisnip's ``conv2d`` against ``torch.nn.functional.conv2d``.

LeNet-5-Caffe's whole step is in ``bench_step.py``. Writes benchmarks/results/conv.json.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from benchmarks import common  # noqa: E402

# (name, batch, channels, size, out channels, kernel, padding)
CONV_LAYERS = [("lenet5.conv1", 100, 1, 28, 20, 5, 0), ("lenet5.conv2", 100, 20, 12, 50, 5, 0),
               ("vgg.block1", 128, 64, 32, 64, 3, 1), ("vgg.block3", 128, 256, 8, 256, 3, 1),
               ("vgg.block5", 128, 512, 2, 512, 3, 1)]
GB = 2 ** 30


# --------------------------------------------------------------------- memory (child)
def _status() -> dict:
    out = {}
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(("VmHWM", "VmRSS")):
                key, value = line.split(":")
                out[key] = int(value.split()[0]) * 1024
    return out


def memory_child(args) -> None:
    """Run in a fresh process; print JSON. The kernels are loaded by a step on a 2-image
    batch first, so that the baseline holds the model, the optimizer's state, the batch and
    the compiled code; then two steps at the full batch, the peak resident memory of each
    measured above that baseline. minisnip keeps freed memory for reuse (its malloc setting),
    so the second step's peak includes what the first one left allocated."""
    session = common.start("conv-memory-child", args)
    import gc
    import minisnip
    from benchmarks import nets
    x, y = nets.batch("vgg-like", args.batch)
    ours = nets.MinisnipStep("vgg-like", x, y)
    step = ours
    if args.memory_child == "torch":
        step = nets.TorchStep(ours, session.torch)
        del ours
    full = step.x, step.y
    step.x, step.y = ((minisnip.Tensor(x[:2]), y[:2]) if args.memory_child == "minisnip"
                      else (full[0][:2], full[1][:2]))
    step()
    step.x, step.y = full
    gc.collect()
    baseline = _status()["VmRSS"]
    peaks, traced = [], None
    for k in range(3):
        if k == 2 and args.memory_child == "minisnip":
            step.keep_graph = True  # as in a training loop: the previous graph lives on
            step()
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # reset the peak resident size to the current one
        if k == 1 and args.memory_child == "minisnip":
            import tracemalloc
            tracemalloc.start()
            step()
            traced = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
        else:
            step()
        peaks.append(_status()["VmHWM"] - baseline)
    print(json.dumps(dict(side=args.memory_child, baseline_rss=baseline, first_step_peak=peaks[0],
                          step_peak=peaks[1], numpy_traced_peak=traced,
                          loop_step_peak=peaks[2] if args.memory_child == "minisnip" else None)))


def measure_memory(args, side: str) -> dict:
    cmd = [sys.executable, os.path.abspath(__file__), "--memory-child", side,
           "--batch", str(args.batch), "--threads", str(args.threads)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
    if done.returncode != 0:
        return dict(side=side, error=done.stderr[-2000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


# ------------------------------------------------------------------------- conv layers
def conv_layers(session, quick: bool) -> list:
    import numpy as np
    import minisnip
    from minisnip import functional as F
    torch = session.torch
    rows = []
    rng = np.random.default_rng(0)
    for name, n, c, h, oc, k, pad in CONV_LAYERS:
        n = 4 if quick else n
        x = rng.standard_normal((n, c, h, h)).astype(np.float32)
        w = (rng.standard_normal((oc, c, k, k)) / np.sqrt(c * k * k)).astype(np.float32)
        oh = h + 2 * pad - k + 1
        flops = 3 * 2 * n * oc * c * k * k * oh * oh  # forward, input grad, weight grad
        xt, wt = minisnip.Tensor(x, requires_grad=True), minisnip.Tensor(w, requires_grad=True)
        g = np.ones((n, oc, oh, oh), np.float32)

        def ours():
            xt.grad = wt.grad = None
            F.conv2d(xt, wt, None, 1, pad).backward(g)
        sides = {"minisnip": ours}
        if torch is not None:
            tx = torch.from_numpy(x).requires_grad_()
            tw = torch.from_numpy(w).requires_grad_()
            tg = torch.from_numpy(g)

            def theirs():
                tx.grad = tw.grad = None
                torch.nn.functional.conv2d(tx, tw, None, 1, pad).backward(tg)
            sides["torch"] = theirs
        r = session.compare(f"conv {name} x{(n, c, h, h)} w{(oc, c, k, k)} forward+backward",
                            sides, "torch" if torch is not None else None)
        rows.append(dict(layer=name, input=[n, c, h, h], weight=[oc, c, k, k], padding=pad,
                         gflops={s: flops / v["median"] / 1e9 for s, v in r["sides"].items()},
                         timing=r))
    print(f"{'conv layer':14s} " + " ".join(f"{s + ' GFLOP/s':>16s}" for s in rows[0]["gflops"]))
    for row in rows:
        print(f"{row['layer']:14s} " + " ".join(f"{v:16.1f}" for v in row["gflops"].values()))
    return rows


def main(argv=None):
    p = common.parser(__doc__, rounds=5, repeats=1, warmup=1)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--skip-layers", action="store_true", help="no per-layer conv table")
    p.add_argument("--skip-memory", action="store_true", help="no peak-memory subprocesses")
    p.add_argument("--memory-child", choices=["minisnip", "torch"], help=argparse_hidden())
    args = p.parse_args(argv)
    common.quick_settings(args, p, batch=4)
    if args.memory_child:
        return memory_child(args)
    session = common.start("conv", args)
    from benchmarks import nets
    from benchmarks.breakdown import format_breakdown, profile_step
    results = {}
    x, y = nets.batch("vgg-like", args.batch)
    ours = nets.MinisnipStep("vgg-like", x, y)
    sides = {"minisnip": ours}
    if session.torch is not None:
        theirs = nets.TorchStep(ours, session.torch)
        results["agreement"] = nets.agreement(ours, theirs)
        sides["torch"] = theirs
    vgg = session.compare(f"VGG-like step, batch {args.batch}", sides,
                          "torch" if session.torch is not None else None)
    results["vgg_like_step"] = vgg
    ratio = vgg.get("ratios", {}).get("minisnip / torch")
    session.goal(f"goal 1: VGG-like step at batch {args.batch}, minisnip / PyTorch",
                 ratio and ratio["median"], 1.0, "lower",
                 spread=ratio and (ratio["min"], ratio["max"]), quiet=ratio and ratio.get("quiet"),
                 cpu=ratio and ratio.get("cpu"),
                 disturbed=common.disturbance(vgg))
    if not args.skip_memory:
        memory = {side: measure_memory(args, side)
                  for side in (["minisnip"] + (["torch"] if session.torch is not None else []))}
        results["memory"] = memory
        for side, m in memory.items():
            if "error" in m:
                print(f"memory of the {side} step: failed: {m['error']}")
                continue
            traced = (f", NumPy allocations (tracemalloc) {m['numpy_traced_peak'] / GB:.2f} GB"
                      if m.get("numpy_traced_peak") is not None else "")
            print(f"{side} VGG-like step, batch {args.batch}: peak resident memory above the "
                  f"{m['baseline_rss'] / GB:.2f} GB of model, optimizer state, batch and code: "
                  f"first step {m['first_step_peak'] / GB:.2f} GB, second "
                  f"{m['step_peak'] / GB:.2f} GB{traced}")
            if m.get("loop_step_peak") is not None:
                print(f"    a step while the previous step's graph is still referenced (as in "
                      f"minisnip.train's loop): {m['loop_step_peak'] / GB:.2f} GB")
        m = memory["minisnip"]
        session.goal(f"goal 1: VGG-like step at batch {args.batch}, minisnip's peak memory "
                     f"during the step", None if "error" in m else m["step_peak"] / GB, 1.0,
                     "lower", unit=" GB")
    results["vgg_like_breakdown"] = profile_step(ours, calls=1, warm=0)
    print(format_breakdown("VGG-like", results["vgg_like_breakdown"]))
    if not args.skip_layers:
        results["conv_layers"] = conv_layers(session, args.quick)
    common.check_runtime_sharing(session)
    session.finish(results)


def argparse_hidden():
    import argparse
    return argparse.SUPPRESS


if __name__ == "__main__":
    main()
