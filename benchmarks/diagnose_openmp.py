"""Why the old ``bench_rnn.py`` reported PyTorch's GRU-s step at 108-150 ms: PyTorch's steps
in fresh processes, with Numba's thread pool started before or after PyTorch's import.

    python benchmarks/diagnose_openmp.py [--steps 20] [--rounds 3] [--quick]

Each case is a new process (the cases interleaved, ``--rounds`` times) that times PyTorch's LSTM-s and GRU-s training steps (batch 100,
Adam, 2 threads; the first steps apart, then the median of ``--steps`` warm ones):

* ``torch alone``: Numba never starts.
* ``numba first``: a Numba parallel kernel runs, then PyTorch is imported (what the old
  ``bench_rnn.py`` did: minisnip's steps first, ``import torch`` after). Numba's OpenMP layer
  has loaded the system's ``libgomp.so.1`` and called ``omp_set_nested(1)``; PyTorch's own
  ``libgomp.so.1`` has the same name, so the dynamic linker hands PyTorch the one already
  loaded, nested parallelism on.
* ``torch first``: PyTorch imported before Numba's first parallel kernel: two OpenMP
  runtimes, PyTorch's untouched (what ``common.start`` does).
* ``numba first, nested off``: as ``numba first``, then ``omp_set_nested(0)`` on the shared
  runtime: if this alone restores the speed, nesting is the cause.
* ``torch alone, nested on``: ``omp_set_nested(1)`` on PyTorch's own runtime, Numba absent.
* ``numba first, workqueue``: Numba's workqueue layer (no OpenMP on Numba's side).
* ``torch first, OMP_WAIT_POLICY=PASSIVE``: OpenMP threads sleep instead of spinning.

Also measured, in the parent: the CPU time an OpenMP worker keeps spinning after a parallel
region (Numba's and PyTorch's), the reason the harness sleeps between timed blocks.
Writes benchmarks/results/harness_diagnosis.json.
"""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from benchmarks import common  # noqa: E402

CASES = {
    "torch alone": dict(order="torch"),
    "numba first": dict(order="numba,torch"),
    "torch first": dict(order="torch,numba"),
    "numba first, nested off": dict(order="numba,torch", nested=0),
    "torch alone, nested on": dict(order="torch", nested=1),
    "numba first, workqueue": dict(order="numba,torch", env={"NUMBA_THREADING_LAYER": "workqueue"}),
    "torch first, OMP_WAIT_POLICY=PASSIVE": dict(order="torch,numba",
                                                 env={"OMP_WAIT_POLICY": "PASSIVE"}),
}


def start_numba_pool():
    import numpy as np
    from numba import njit, prange

    @njit(parallel=True, cache=False)
    def touch(a):
        for i in prange(a.size):
            a[i] += 1.0
    touch(np.zeros(64))


def child(args) -> None:
    for part in args.child.split(","):
        if part == "numba":
            start_numba_pool()
        else:
            import torch
            torch.set_num_threads(args.threads)
    import ctypes
    import torch
    runtimes = common.openmp_runtimes()
    torch_runtime = next((r for r in runtimes if os.sep + "torch" + os.sep in r),
                         runtimes[-1] if runtimes else None)
    gomp = ctypes.CDLL(torch_runtime) if torch_runtime else None
    if args.nested is not None and gomp is not None:
        gomp.omp_set_nested(args.nested)
    from benchmarks import nets
    out = dict(openmp_runtimes=runtimes, torch_runtime=torch_runtime,
               nested_in_torch_runtime=gomp.omp_get_nested() if gomp else None, steps={})
    if "numba" in args.child:
        out["numba_threading_layer"] = common.numba_threading_layer()
    for name in ("lstm-s", "gru-s"):
        x, y = nets.batch(name)
        model = nets.torch_model(name, torch)
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        tx, ty = torch.from_numpy(x), torch.from_numpy(y)
        lossf = torch.nn.CrossEntropyLoss()
        times = []
        for _ in range(5 + args.steps):
            t0 = time.perf_counter()
            loss = lossf(model(tx), ty)
            opt.zero_grad()
            loss.backward()
            opt.step()
            times.append(time.perf_counter() - t0)
        out["steps"][name] = dict(first_ms=[t * 1e3 for t in times[:5]],
                                  warm_median_ms=statistics.median(times[5:]) * 1e3,
                                  warm_min_ms=min(times[5:]) * 1e3)
    print(json.dumps(out))


def spin_after_region(torch, repeats: int = 20) -> dict:
    """CPU time the process burns in the ``wait`` seconds after a parallel region returns
    (the calling thread sleeps, so it is the workers spinning), per framework."""
    import numpy as np
    from numba import njit, prange

    @njit(parallel=True, cache=False)
    def region(a):
        for i in prange(a.size):
            a[i] += 1.0
    a = np.zeros(1 << 16)
    region(a)
    calls = {"numba": lambda: region(a)}
    if torch is not None:
        m = torch.ones(256, 256)
        calls["torch"] = lambda: torch.mm(m, m)
    out = {}
    for name, fn in calls.items():
        for wait in (0.002, 0.02, 0.2):
            burnt = []
            for _ in range(repeats):
                fn()
                time.sleep(0.3)  # let everything go to sleep
                fn()
                c0 = time.process_time()
                time.sleep(wait)
                burnt.append(time.process_time() - c0)
            out[f"{name}, {wait * 1e3:g} ms after"] = statistics.median(burnt) * 1e3
    return out


def run_case(case: str, spec: dict, args) -> dict:
    cmd = [sys.executable, os.path.abspath(__file__), "--child", spec["order"],
           "--threads", str(args.threads), "--steps", str(args.steps)]
    if "nested" in spec:
        cmd += ["--nested", str(spec["nested"])]
    env = dict(os.environ, **spec.get("env", {}))
    with common.LoadMeter() as meter:
        done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=900)
    if done.returncode != 0:
        return dict(error=done.stderr[-2000:])
    r = json.loads(done.stdout.strip().splitlines()[-1])
    r["other_cores"] = round(meter.other_cores, 2)
    return r


def main(argv=None):
    p = common.parser(__doc__, rounds=3, repeats=1, warmup=0)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--child", default=None, help=__import__("argparse").SUPPRESS)
    p.add_argument("--nested", type=int, default=None, help=__import__("argparse").SUPPRESS)
    args = p.parse_args(argv)
    common.quick_settings(args, p, steps=2, rounds=1)
    if args.child:
        for var in common.THREAD_VARIABLES:
            os.environ[var] = str(args.threads)
        sys.path.insert(0, common.ROOT)
        return child(args)
    session = common.start("harness_diagnosis", args)
    results = dict(cases={case: [] for case in CASES})
    names = list(CASES)
    for r in range(args.rounds):
        for case in names[r % len(names):] + names[:r % len(names)]:
            common.wait_for_quiet(args.wait_quiet)
            results["cases"][case].append(run_case(case, CASES[case], args))
    for case, runs in results["cases"].items():
        good = [x for x in runs if "error" not in x]
        if not good:
            print(f"{case}: failed: {runs[0]['error'][-500:]}")
            continue
        med = {n: statistics.median(x["steps"][n]["warm_median_ms"] for x in good)
               for n in ("lstm-s", "gru-s")}
        r = good[0]
        runtimes = ", ".join(("torch's " if os.sep + "torch" + os.sep in p_ else "system ")
                             + os.path.basename(p_) for p_ in r["openmp_runtimes"])
        print(f"{case:38s} median LSTM-s {med['lstm-s']:6.1f} ms, GRU-s {med['gru-s']:6.1f} ms; "
              f"nested {r['nested_in_torch_runtime']}; {runtimes}")
        for x in good:
            print(f"{'':40s}run: LSTM-s {x['steps']['lstm-s']['warm_median_ms']:6.1f} ms, GRU-s "
                  f"{x['steps']['gru-s']['warm_median_ms']:6.1f} ms (first 5 GRU-s steps "
                  + ", ".join(f"{t:.0f}" for t in x["steps"]["gru-s"]["first_ms"])
                  + f" ms), other processes {x['other_cores']:.2f} cores")
    results["spin_cpu_ms_after_region"] = spin_after_region(session.torch)
    print("CPU burnt by OpenMP workers while the caller sleeps after a parallel region (ms): "
          + ", ".join(f"{k}: {v:.1f}" for k, v in results["spin_cpu_ms_after_region"].items()))
    session.finish(results)


if __name__ == "__main__":
    main()
