"""Issue 11, goal 1: dense training steps, minisnip against PyTorch in this one process.

    python benchmarks/bench_step.py [--models lenet300,lenet5,lstm-s,gru-s] [--batch 100]
                                    [--rounds 7] [--repeats 5] [--with-blas] [--quick]

For each network: minisnip's step (forward, loss, backward, SGD or Adam update on one fixed
batch; the paper's protocol) and its PyTorch twin, holding the same weights (checked: both
compute the same loss), timed alternating round by round by the harness
(``benchmarks/common.py``): the ratio minisnip / PyTorch is the median of the per-round ratios.
Goal: <= 1.0 with the default (Numba) kernels. ``--with-blas`` adds minisnip with
``MINISNIP_MATMUL=blas`` as a third side.

Then where minisnip's time goes (``benchmarks/breakdown.py``: per kernel, per op, outside
ops; thread wake-ups, page faults) and PyTorch's most expensive ops for the same step
(``torch.profiler``). Writes benchmarks/results/step.json.
"""
from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from benchmarks import common  # noqa: E402

NAMES = {"lenet300": "LeNet-300-100", "lenet5": "LeNet-5-Caffe", "lstm-s": "LSTM-s",
         "gru-s": "GRU-s", "vgg-like": "VGG-like"}


def torch_top_ops(torch, step, calls: int = 5, top: int = 10) -> list:
    """PyTorch's most expensive ops (self CPU time) over ``calls`` warm steps."""
    from torch.profiler import ProfilerActivity, profile
    best = None
    for _ in range(3):  # keep the least disturbed of up to 3 attempts
        step()
        with common.LoadMeter() as meter, profile(activities=[ProfilerActivity.CPU]) as prof:
            for _ in range(calls):
                step()
        rows = sorted(prof.key_averages(), key=lambda e: -e.self_cpu_time_total)[:top]
        rows = [dict(op=e.key, calls=e.count / calls, self_ms=e.self_cpu_time_total / 1e3 / calls,
                     other_cores=round(meter.other_cores, 2)) for e in rows]
        if best is None or rows[0]["other_cores"] < best[0]["other_cores"]:
            best = rows
        if best[0]["other_cores"] <= common.quiet_limit():
            break
    return best


def blas_side(step):
    from minisnip import config

    def run():
        config.set_matmul_backend("blas")
        try:
            step()
        finally:
            config.set_matmul_backend("numba")
    return run


def measure_model(session, name: str, batch_size: int, args) -> dict:
    from benchmarks import nets
    from benchmarks.breakdown import format_breakdown, profile_step
    x, y = nets.batch(name, batch_size)
    ours = nets.MinisnipStep(name, x, y)
    out = dict(model=name, batch=batch_size, protocol=nets.protocol(name))
    sides = {"minisnip": ours}
    torch = session.torch
    if torch is not None:
        theirs = nets.TorchStep(ours, torch)
        out["agreement"] = nets.agreement(ours, theirs)
        if not out["agreement"]["agree"]:
            print(f"WARNING: {name}: minisnip and PyTorch disagree: {out['agreement']}")
        sides["torch"] = theirs
    if args.with_blas:
        sides["minisnip-blas"] = blas_side(nets.MinisnipStep(name, x, y))
    out["timing"] = session.compare(f"{NAMES.get(name, name)} step, batch {batch_size}", sides,
                                    "torch" if torch is not None else None)
    ratio = out["timing"].get("ratios", {}).get("minisnip / torch")
    session.goal(f"goal 1: {NAMES.get(name, name)} dense step, minisnip / PyTorch",
                 ratio and ratio["median"], 1.0, "lower",
                 spread=ratio and (ratio["min"], ratio["max"]), quiet=ratio and ratio.get("quiet"),
                 cpu=ratio and ratio.get("cpu"),
                 disturbed=common.disturbance(out["timing"]))
    if args.breakdown:
        out["breakdown"] = profile_step(ours, calls=max(args.repeats, 3))
        print(format_breakdown(NAMES.get(name, name), out["breakdown"]))
        if torch is not None:
            out["torch_top_ops"] = torch_top_ops(torch, theirs, calls=max(args.repeats, 3))
            print("  PyTorch's top ops (self ms/step): " + ", ".join(
                f"{r['op']} {r['self_ms']:.2f}" for r in out["torch_top_ops"][:6]))
    return out


def main(argv=None):
    p = common.parser(__doc__, rounds=7, repeats=5, warmup=5)
    p.add_argument("--models", default="lenet300,lenet5,lstm-s,gru-s")
    p.add_argument("--batch", type=int, default=100)
    p.add_argument("--with-blas", action="store_true",
                   help="also time minisnip with NumPy's BLAS for the products")
    p.add_argument("--no-breakdown", dest="breakdown", action="store_false")
    args = p.parse_args(argv)
    common.quick_settings(args, p, batch=8)
    session = common.start("step", args)
    results = {}
    for name in args.models.split(","):
        results[name] = measure_model(session, name, args.batch, args)
    common.check_runtime_sharing(session)
    session.finish(results)


if __name__ == "__main__":
    main()
