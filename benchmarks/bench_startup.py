"""Issue 11, goal 5: start-up. How long a new process takes to reach the end of its first
training step (import, model build, first step), with Numba's cache warm, and the first-ever
compile (an empty cache).

    python benchmarks/bench_startup.py [--models lenet300,lenet5,lstm-s,gru-s] [--runs 5]
                                       [--cold-runs 1] [--quick]

Each measurement is a fresh ``python`` process (started in the worktree, so it imports the
worktree's minisnip, and never PyTorch) that imports minisnip, builds and initializes the
model, and runs two training steps on a fixed batch (the paper's protocol, as
``bench_step.py``). The whole-process wall time is measured from outside, from start to exit;
the process reports its own phases. *Warm*: the kernels are in Numba's cache (one untimed run
first puts them there), the runs of all models interleaved. *Cold*: ``NUMBA_CACHE_DIR``
points to a new empty folder, so every kernel the step needs is compiled.
Goal: warm, <= 2 s to the end of the first step. Writes benchmarks/results/startup.json.
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

CHILD = r"""
import time
t0 = time.perf_counter()
import json, sys
sys.path.insert(0, {root!r})
import numpy as np
import minisnip
t_import = time.perf_counter()
from benchmarks.nets import MinisnipStep, batch
x, y = batch({model!r}, {batch})
step = MinisnipStep({model!r}, x, y)
t_build = time.perf_counter()
step()
t_first = time.perf_counter()
first_step_end_epoch = time.time()
step()
t_second = time.perf_counter()
import numba
print(json.dumps(dict(import_s=t_import - t0, build_s=t_build - t_import,
                      first_step_s=t_first - t_build, second_step_s=t_second - t_first,
                      in_process_to_first_step_end_s=t_first - t0,
                      first_step_end_epoch=first_step_end_epoch, threads=numba.get_num_threads())))
"""


def run_child(model: str, batch: int, threads: int, cache_dir: str | None) -> dict:
    env = dict(os.environ)
    for var in common.THREAD_VARIABLES:
        env[var] = str(threads)
    if cache_dir:
        env["NUMBA_CACHE_DIR"] = cache_dir
    code = CHILD.format(root=common.ROOT, model=model, batch=batch)
    t0, started = time.perf_counter(), time.time()
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                          cwd=common.ROOT, timeout=1800)
    wall = time.perf_counter() - t0
    if done.returncode != 0:
        return dict(error=done.stderr[-2000:], process_wall_s=wall)
    out = json.loads(done.stdout.strip().splitlines()[-1])
    out["process_wall_s"] = wall
    # wall-clock time from the parent starting the process to the child's first step ending:
    # the interpreter's own start-up included
    out["process_to_first_step_end_s"] = out.pop("first_step_end_epoch") - started
    return out


def summary(runs: list, key: str):
    values = [r[key] for r in runs if "error" not in r]
    if not values:
        return None
    return dict(median=statistics.median(values), min=min(values), max=max(values))


def main(argv=None):
    p = common.parser(__doc__, rounds=5, repeats=1, warmup=1)
    p.add_argument("--models", default="lenet300,lenet5,lstm-s,gru-s")
    p.add_argument("--batch", type=int, default=100)
    p.add_argument("--runs", type=int, default=None, help="warm runs per model (default --rounds)")
    p.add_argument("--cold-runs", type=int, default=1, help="empty-cache runs per model")
    args = p.parse_args(argv)
    common.quick_settings(args, p, models="lenet300", batch=8, cold_runs=0)
    runs = args.runs or args.rounds
    session = common.start("startup", args)
    models = args.models.split(",")
    results = {m: dict(warm=[], cold=[]) for m in models}
    with common.LoadMeter() as meter:
        for m in models:  # make sure the cache is warm
            run_child(m, args.batch, args.threads, None)
        for r in range(runs):
            for m in models[r % len(models):] + models[:r % len(models)]:
                common.wait_for_quiet(args.wait_quiet)
                results[m]["warm"].append(run_child(m, args.batch, args.threads, None))
    warm_other = meter.other_cores
    with common.LoadMeter() as meter:
        for r in range(args.cold_runs):
            for m in models:
                common.wait_for_quiet(args.wait_quiet)
                with tempfile.TemporaryDirectory(prefix="numba-cache-") as cache:
                    results[m]["cold"].append(run_child(m, args.batch, args.threads, cache))
    cold_other = meter.other_cores
    print(f"{'model':10s} {'':5s} {'process to end of 1st step':>27s} {'import':>8s} "
          f"{'build':>8s} {'1st step':>9s} {'2nd step':>9s}   (s, median [min-max] of runs)")
    for m in models:
        for kind in ("warm", "cold"):
            rs = results[m][kind]
            errors = [r["error"] for r in rs if "error" in r]
            if errors:
                print(f"{m:10s} {kind:5s} failed: {errors[0][-500:]}")
            stats = {k: summary(rs, k) for k in ("process_to_first_step_end_s", "import_s",
                                                 "build_s", "first_step_s", "second_step_s")}
            results[m][f"{kind}_summary"] = stats
            if stats["import_s"] is None:
                continue
            w = stats["process_to_first_step_end_s"]
            print(f"{m:10s} {kind:5s} {w['median']:10.2f} [{w['min']:.2f}-{w['max']:.2f}]"
                  f"{'':8s} " + " ".join(f"{stats[k]['median']:8.2f}" for k in
                                         ("import_s", "build_s", "first_step_s"))
                  + f" {stats['second_step_s']['median']:9.3f}")
    print(f"other processes used {warm_other:.2f} cores during the warm runs, "
          f"{cold_other:.2f} during the cold ones")
    for m in models:
        w = results[m]["warm_summary"]["process_to_first_step_end_s"]
        session.goal(f"goal 5: {m}, new process to the end of its first training step, "
                     f"warm cache", w and w["median"], 2.0, "lower", unit=" s",
                     spread=w and (w["min"], w["max"]),
                     disturbed=(f"other processes used {warm_other:.2f} cores"
                                if warm_other > common.quiet_limit() else ""))
        c = results[m]["cold_summary"]["process_to_first_step_end_s"]
        if c:
            print(f"      {m}: first-ever compile (empty cache): {c['median']:.1f} s to the end "
                  f"of the first step")
    session.finish(results, settings=dict(warm_other_cores=warm_other,
                                          cold_other_cores=cold_other))


if __name__ == "__main__":
    main()
