"""Issue 11, goals 2 and 3: the SNIP-pruned training step against PyTorch's masked dense step.

    python benchmarks/bench_sparse.py [--models lenet300,lenet5,lstm-s,gru-s]
                                      [--sparsities 0.9,0.95,0.98,0.99] [--mode auto]
                                      [--rounds 7] [--repeats 5] [--quick]

For each network and sparsity: prune at initialization with SNIP on the batch, then time,
alternating round by round (``common.py``):

* ``minisnip-sparse``: the pruned network after ``model.use_sparse_kernels(mode)`` (``--mode
  auto``: the layers below the break-even density; ``--mode on``: every layer with a sparse
  kernel: Linear and Conv2d);
* ``minisnip-dense``: the same pruned network computing densely with ``c * w``;
* ``torch-masked`` (the reference): PyTorch with minisnip's weights and masks, computing with
  ``weight * mask`` through ``torch.nn.utils.prune.custom_from_mask``, the natural way.

The speed-up is PyTorch's masked time over minisnip's, per round; its median over rounds is
printed beside the goals: LeNet-300-100 >= 5x at 99% and >= 2.5x at 95%, LeNet-5-Caffe >= 2x
at 99%, LSTM-s >= 1.5x at 95%. Which layers ran sparse is printed; which ops ran is counted
in one profiled step at every setting, and at the goals' settings the whole breakdown is
printed. Writes benchmarks/results/sparse.json.
"""
from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from benchmarks import common  # noqa: E402
from benchmarks.bench_step import NAMES  # noqa: E402

GOALS = {("lenet300", 0.99): 5.0, ("lenet300", 0.95): 2.5, ("lenet5", 0.99): 2.0,
         ("lstm-s", 0.95): 1.5}


def speedup(result: dict, slow: str, fast: str) -> dict | None:
    """Per-round time(slow) / time(fast): how many times faster ``fast`` is."""
    return common.per_round_ratio(result, slow, fast)


def op_census(step) -> dict:
    """The ops one step ran, with their call counts (which layers ran sparse)."""
    from benchmarks.breakdown import Breakdown
    with Breakdown() as bd:
        step()
    return {k[1]: n for k, n in sorted(bd.calls.items()) if k[0] == "op"}


def measure(session, name, sparsity, args) -> dict:
    from benchmarks import nets
    from benchmarks.breakdown import format_breakdown, profile_step
    x, y = nets.batch(name, args.batch)
    sparse = nets.MinisnipStep(name, x, y, sparsity=sparsity)
    dense = nets.MinisnipStep(name, x, y, sparsity=sparsity)
    out = dict(model=name, sparsity=sparsity, batch=args.batch,
               kept=sum(r.kept for r in sparse.prune_report.layers),
               prunable=sum(r.total for r in sparse.prune_report.layers),
               layers=[dict(name=r.name, shape=list(r.shape), kept=r.kept, total=r.total,
                            density=r.kept / r.total) for r in sparse.prune_report.layers])
    out["switch"] = sparse.use_sparse_kernels("auto" if args.mode == "auto" else True)
    sides = {"minisnip-sparse": sparse, "minisnip-dense": dense}
    torch = session.torch
    if torch is not None:
        masked = nets.TorchStep(sparse, torch, masked=True)
        out["agreement"] = nets.agreement(sparse, masked)
        if not out["agreement"]["agree"]:
            print(f"WARNING: {name} at {sparsity}: minisnip and PyTorch disagree: "
                  f"{out['agreement']}")
        sides["torch-masked"] = masked
        if args.with_torch_dense:
            sides["torch-dense"] = nets.TorchStep(nets.MinisnipStep(name, x, y), torch)
    label = f"{NAMES[name]} at sparsity {sparsity}, batch {args.batch}"
    out["timing"] = session.compare(label, sides, None, quiet=True)
    out["ops_run"] = op_census(sparse)
    out["sparse_ops"] = {k: v for k, v in out["ops_run"].items() if "parse" in k}
    out["speedup_sparse"] = speedup(out["timing"], "torch-masked", "minisnip-sparse")
    out["speedup_dense"] = speedup(out["timing"], "torch-masked", "minisnip-dense")
    out["sparse_over_dense"] = speedup(out["timing"], "minisnip-dense", "minisnip-sparse")
    ms = {k: v["median"] * 1e3 for k, v in out["timing"]["sides"].items()}
    s = out["speedup_sparse"]
    print(f"{NAMES[name]:14s} {sparsity:5.2f}  " + "  ".join(f"{k} {v:8.2f} ms" for k, v in ms.items())
          + (f"  speed-up over PyTorch masked: sparse {s['median']:.2f}x "
             f"(rounds {s['min']:.2f}-{s['max']:.2f}), dense c*w "
             f"{out['speedup_dense']['median']:.2f}x" if s else "")
          + f"  [sparse layers: {', '.join(out['switch']['layers']) or 'none'}]")
    d = out["timing"]["other_cores_per_round"]
    print(f"{'':21s}other processes per round: {min(d):.2f}-{max(d):.2f} cores"
          + (f"; quiet rounds only ({len(s['quiet']['per_round'])}): sparse "
             f"{s['quiet']['median']:.2f}x" if s and "quiet" in s else ""))
    goal = GOALS.get((name, sparsity))
    if goal is not None:
        session.goal(f"goal 2: {NAMES[name]} at {sparsity:.0%} sparsity, PyTorch masked / "
                     f"minisnip sparse", s and s["median"], goal, "higher",
                     spread=s and (s["min"], s["max"]), quiet=s and s.get("quiet"),
                     cpu=s and s.get("cpu"),
                     disturbed=common.disturbance(out["timing"]))
        if args.breakdown:
            out["breakdown"] = profile_step(sparse, calls=max(args.repeats, 3))
            print(format_breakdown(f"{NAMES[name]} at {sparsity}, sparse kernels",
                                   out["breakdown"]))
    return out


def main(argv=None):
    p = common.parser(__doc__, rounds=7, repeats=5, warmup=5)
    p.add_argument("--models", default="lenet300,lenet5,lstm-s,gru-s")
    p.add_argument("--sparsities", default="0.9,0.95,0.98,0.99")
    p.add_argument("--batch", type=int, default=100)
    p.add_argument("--mode", default="auto", choices=("auto", "on"),
                   help="model.use_sparse_kernels('auto') or (True) (default auto)")
    p.add_argument("--with-torch-dense", action="store_true",
                   help="also time PyTorch's unmasked dense step")
    p.add_argument("--no-breakdown", dest="breakdown", action="store_false")
    args = p.parse_args(argv)
    common.quick_settings(args, p, batch=8, sparsities="0.95,0.99")
    session = common.start("sparse", args)
    results = []
    for name in args.models.split(","):
        for sparsity in (float(s) for s in args.sparsities.split(",")):
            results.append(measure(session, name, sparsity, args))
    common.check_runtime_sharing(session)
    session.finish(results)


if __name__ == "__main__":
    main()
