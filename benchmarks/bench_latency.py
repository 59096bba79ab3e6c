"""Issue 11, goal 4: no collapse under load. Tiny-op latencies and ``minisnip demo``'s wall
time, with and without a competing CPU-bound process, default threads against one thread.

    python benchmarks/bench_latency.py [--hogs 1] [--demo-epochs 10] [--reduced-epochs 2]
                                       [--layers default,workqueue] [--quick]

Every configuration runs in a fresh process (thread counts are fixed at start):
threads = Numba's default (``NUMBA_NUM_THREADS`` unset: one per core) or
``NUMBA_NUM_THREADS=1``; load = none, or ``--hogs`` processes running
``while True: pass`` for the whole measurement. Configurations are interleaved, repeat by
repeat.

* Tiny ops, each timed call by call in a child process (median and 90th percentile, µs):
  small products (3x2 @ 2x4, LeNet-300-100's 10-wide last layer), elementwise ops, a small
  convolution, a Linear layer's forward + backward, and, as yardsticks, the same in NumPy and
  PyTorch, an empty Numba kernel and an empty *parallel* Numba kernel (the cost of waking the
  thread pool) and one autograd op on a 1-element tensor (minisnip's Python cost per op).
* ``python -m minisnip demo`` (SNIP at 95% on LeNet-300-100, fashion-mini data), whole-process
  wall time, at its default ``--epochs`` and, in addition, a reduced variant
  (``--reduced-epochs``).

Goal: under load, the demo with default threads within 1.5x of its ``NUMBA_NUM_THREADS=1``
time. Writes benchmarks/results/latency.json.
"""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from benchmarks import common  # noqa: E402

HOG = "while True: pass"


# ----------------------------------------------------------------------- tiny ops (child)
def tiny_ops(torch) -> dict:
    """name -> callable, each a tiny piece of work."""
    import numpy as np
    from numba import njit, prange
    import minisnip
    from minisnip import functional as F, nn
    rng = np.random.default_rng(0)

    def arr(*shape):
        return rng.standard_normal(shape).astype(np.float32)

    @njit(cache=False)
    def empty_serial(a):
        return a[0]

    @njit(parallel=True, cache=False)
    def empty_parallel(a):
        s = 0.0
        for i in prange(a.size):
            s += a[i]
        return s

    a32, b24 = minisnip.Tensor(arr(3, 2)), minisnip.Tensor(arr(2, 4))
    h100, w10 = minisnip.Tensor(arr(100, 100)), minisnip.Tensor(arr(100, 10))
    x300 = minisnip.Tensor(arr(100, 300))
    one, two = minisnip.Tensor(arr(1)), minisnip.Tensor(arr(1))
    img, ker = minisnip.Tensor(arr(1, 1, 8, 8)), minisnip.Tensor(arr(2, 1, 3, 3))
    fc3 = nn.Linear(100, 10)
    fc3.weight.data[...] = arr(10, 100) * 0.1
    xin = minisnip.Tensor(arr(100, 100), requires_grad=True)
    g10 = arr(100, 10)
    two_floats = np.ones(2, np.float64)

    def linear_fb():
        xin.grad = None
        fc3.zero_grad()
        fc3(xin).backward(g10)

    ops = {
        "numba empty kernel": lambda: empty_serial(two_floats),
        "numba empty parallel kernel (thread wake-up)": lambda: empty_parallel(two_floats),
        "op on a 1-element tensor (Python cost per op)": lambda: one + two,
        "matmul 3x2 @ 2x4": lambda: a32 @ b24,
        "matmul 100x100 @ 100x10 (LeNet-300-100's last layer)": lambda: h100 @ w10,
        "relu 100x300": lambda: x300.relu(),
        "add 100x300 + 100x300": lambda: x300 + x300,
        "conv2d 1x1x8x8 * 2x1x3x3": lambda: F.conv2d(img, ker),
        "Linear(100, 10) forward+backward, batch 100": linear_fb,
        "numpy matmul 3x2 @ 2x4": lambda: a32.data @ b24.data,
        "numpy matmul 100x100 @ 100x10": lambda: h100.data @ w10.data,
    }
    if torch is not None:
        t32, t24 = torch.from_numpy(a32.data), torch.from_numpy(b24.data)
        t100, t10 = torch.from_numpy(h100.data), torch.from_numpy(w10.data)
        timg, tker = torch.from_numpy(img.data), torch.from_numpy(ker.data)
        ops.update({
            "torch matmul 3x2 @ 2x4": lambda: t32 @ t24,
            "torch matmul 100x100 @ 100x10": lambda: t100 @ t10,
            "torch conv2d 1x1x8x8 * 2x1x3x3": lambda: torch.nn.functional.conv2d(timg, tker),
        })
    return ops


def child(args) -> None:
    """Time every tiny op call by call; print one JSON line."""
    session = common.start("latency-child", args)
    import minisnip
    ops = tiny_ops(session.torch)
    out = {}
    for name, fn in ops.items():
        grad_ctx = minisnip.enable_grad if "backward" in name else minisnip.no_grad
        with grad_ctx():
            for _ in range(20):
                fn()
            times, t_end = [], time.perf_counter() + args.op_seconds
            while len(times) < args.op_calls and (time.perf_counter() < t_end or len(times) < 10):
                t0 = time.perf_counter()
                fn()
                times.append(time.perf_counter() - t0)
        times.sort()
        out[name] = dict(median_us=statistics.median(times) * 1e6,
                         p90_us=times[int(0.9 * (len(times) - 1))] * 1e6, calls=len(times))
    from benchmarks.common import numba_threading_layer
    print(json.dumps(dict(ops=out, numba_threading_layer=numba_threading_layer(),
                          numba_threads=__import__("numba").get_num_threads())))


# ------------------------------------------------------------------------------ parent
class Hogs:
    """``count`` CPU-bound child processes for the duration of a ``with`` block."""

    def __init__(self, count: int):
        self.count, self.procs = count, []

    def __enter__(self):
        self.procs = [subprocess.Popen([sys.executable, "-c", HOG]) for _ in range(self.count)]
        time.sleep(0.2 if self.procs else 0)
        return self

    def __exit__(self, *exc):
        for proc in self.procs:
            proc.kill()
        for proc in self.procs:
            proc.wait()
        return False


def config_env(threads, layer, wait_policy) -> dict:
    env = dict(os.environ)
    for var in common.THREAD_VARIABLES + ("NUMBA_THREADING_LAYER", "OMP_WAIT_POLICY"):
        env.pop(var, None)
    if threads != "default":
        for var in common.THREAD_VARIABLES:
            env[var] = str(threads)
    if layer != "default":
        env["NUMBA_THREADING_LAYER"] = layer
    if wait_policy:
        env["OMP_WAIT_POLICY"] = wait_policy.upper()
    return env


def run_child(args, threads, hogs, layer) -> dict:
    cmd = [sys.executable, os.path.abspath(__file__), "--child",
           "--op-seconds", str(args.op_seconds), "--op-calls", str(args.op_calls)]
    n = os.cpu_count() if threads == "default" else threads
    cmd += ["--threads", str(n)]
    if layer != "default":
        cmd += ["--threading-layer", layer]
    if args.omp_wait_policy:
        cmd += ["--omp-wait-policy", args.omp_wait_policy]
    if args.no_torch:
        cmd += ["--no-torch"]
    with common.LoadMeter() as meter, Hogs(hogs):
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=900, cwd=common.ROOT)
    if done.returncode != 0:
        return dict(error=done.stderr[-2000:])
    out = json.loads(done.stdout.strip().splitlines()[-1])
    out["other_cores"] = round(meter.other_cores, 2)
    return out


def run_demo(args, threads, hogs, layer, epochs) -> dict:
    with tempfile.TemporaryDirectory(prefix="minisnip-demo-") as out_dir:
        cmd = [sys.executable, "-m", "minisnip", "demo", "--out", out_dir]
        if epochs is not None:
            cmd += ["--epochs", str(epochs)]
        env = config_env(threads, layer, args.omp_wait_policy)
        with common.LoadMeter() as meter, Hogs(hogs):
            t0 = time.perf_counter()
            done = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=common.ROOT,
                                  timeout=3600)
            wall = time.perf_counter() - t0
    if done.returncode != 0:
        return dict(error=done.stderr[-2000:], wall_s=wall)
    return dict(wall_s=wall, other_cores=round(meter.other_cores, 2))


def main(argv=None):
    p = common.parser(__doc__, rounds=3, repeats=1, warmup=0)
    p.add_argument("--hogs", type=int, default=1, help="competing CPU-bound processes (default 1)")
    p.add_argument("--layers", default="default",
                   help="Numba threading layers to try, comma-separated: default, omp, "
                        "workqueue, tbb (default: Numba's own choice only)")
    p.add_argument("--demo-epochs", type=int, default=None,
                   help="epochs of the full demo (default: the demo's own, 10)")
    p.add_argument("--reduced-epochs", type=int, default=2,
                   help="epochs of the reduced demo, run in addition (0: none)")
    p.add_argument("--demo-repeats", type=int, default=1, help="runs of the full demo per config")
    p.add_argument("--skip-demo", action="store_true")
    p.add_argument("--op-seconds", type=float, default=1.0, help="time budget per tiny op")
    p.add_argument("--op-calls", type=int, default=300, help="at most this many calls per tiny op")
    p.add_argument("--child", action="store_true", help=__import__("argparse").SUPPRESS)
    args = p.parse_args(argv)
    common.quick_settings(args, p, op_seconds=0.05, op_calls=20, demo_epochs=1, reduced_epochs=0,
                          rounds=1)
    if args.child:
        return child(args)
    session = common.start("latency", args)
    configs = [(layer, threads, hogs) for layer in args.layers.split(",")
               for threads in ("default", 1) for hogs in sorted({0, args.hogs})]
    ops = {c: [] for c in configs}
    for r in range(args.rounds):
        for c in configs[r % len(configs):] + configs[:r % len(configs)]:
            layer, threads, hogs = c
            common.wait_for_quiet(args.wait_quiet)
            ops[c].append(run_child(args, threads, hogs, layer))
    results = dict(tiny_ops=[], demo=[])
    for c, runs in ops.items():
        layer, threads, hogs = c
        good = [run for run in runs if "error" not in run]
        if not good:
            print(f"tiny ops, layer {layer}, threads {threads}, hogs {hogs}: failed: "
                  f"{runs[0]['error']}")
            continue
        names = list(good[0]["ops"])
        medians = {n: statistics.median(run["ops"][n]["median_us"] for run in good) for n in names}
        results["tiny_ops"].append(dict(layer=layer, threads=threads, hogs=hogs,
                                        numba_threading_layer=good[0]["numba_threading_layer"],
                                        median_us=medians, runs=runs))
    _print_ops(results["tiny_ops"])
    if not args.skip_demo:
        variants = [("full", args.demo_epochs, args.demo_repeats)]
        if args.reduced_epochs:
            variants.append(("reduced", args.reduced_epochs, max(args.rounds, 1)))
        for variant, epochs, repeats in variants:
            walls = {c: [] for c in configs}
            for r in range(repeats):
                for c in configs[r % len(configs):] + configs[:r % len(configs)]:
                    layer, threads, hogs = c
                    common.wait_for_quiet(args.wait_quiet)
                    walls[c].append(run_demo(args, threads, hogs, layer, epochs))
            for c, runs in walls.items():
                layer, threads, hogs = c
                ok = [run["wall_s"] for run in runs if "error" not in run]
                results["demo"].append(dict(variant=variant, epochs=epochs or "default",
                                            layer=layer, threads=threads, hogs=hogs, runs=runs,
                                            median_s=statistics.median(ok) if ok else None))
        _print_demo(results["demo"])
        for variant in {d["variant"] for d in results["demo"]}:
            for layer in args.layers.split(","):
                t = {(d["threads"], d["hogs"]): d["median_s"] for d in results["demo"]
                     if d["variant"] == variant and d["layer"] == layer}
                loaded_default, loaded_one = t.get(("default", args.hogs)), t.get((1, args.hogs))
                ratio = (loaded_default / loaded_one if loaded_default and loaded_one else None)
                if variant == "full" and layer == args.layers.split(",")[0]:
                    others = [r.get("other_cores", 0) for d in results["demo"]
                              if d["variant"] == variant and d["layer"] == layer
                              for r in d["runs"] if "error" not in r]
                    noise = statistics.median(others) if others else 0.0
                    session.goal(f"goal 4: minisnip demo under load ({args.hogs} CPU-bound "
                                 f"process), default threads / NUMBA_NUM_THREADS=1", ratio, 1.5,
                                 "lower", note=f"threading layer {layer}",
                                 disturbed=(f"besides our competing process, others used "
                                            f"{noise:.2f} cores" if noise > common.quiet_limit()
                                            else ""))
                elif ratio is not None:
                    print(f"      ({variant} demo, layer {layer}: under load default threads / "
                          f"1 thread = {ratio:.2f}x)")
    session.finish(results, settings=dict(configs=[list(c) for c in configs]))


def _print_ops(rows) -> None:
    if not rows:
        return
    names = list(rows[0]["median_us"])
    heads = [f"{r['numba_threading_layer']} {r['threads']}t "
             + (f"{r['hogs']} hog" if r["hogs"] else "idle") for r in rows]
    print("tiny-op latency, median µs (Numba threading layer, threads: default or 1, competing "
          "CPU-bound processes)")
    print(f"{'':52s} " + " ".join(f"{h:>16s}" for h in heads))
    for n in names:
        print(f"{n[:52]:52s} " + " ".join(f"{r['median_us'].get(n, float('nan')):16.1f}"
                                          for r in rows))


def _print_demo(rows) -> None:
    print("minisnip demo wall time, s (median over runs)")
    for d in rows:
        runs = ", ".join(f"{r['wall_s']:.1f}" + (f" [{r.get('other_cores', 0):.1f} other cores]")
                         for r in d["runs"] if "error" not in r)
        errors = [r["error"] for r in d["runs"] if "error" in r]
        print(f"  {d['variant']:8s} epochs {d['epochs']!s:8s} layer {d['layer']:10s} threads "
              f"{d['threads']!s:8s} competing {d['hogs']}: "
              + (f"{d['median_s']:.1f} s ({runs})" if d["median_s"] else f"failed: {errors[:1]}"))


if __name__ == "__main__":
    main()
