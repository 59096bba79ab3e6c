"""Issue 11, goal 3: the break-even density of the sparse kernel for one layer shape.

    python benchmarks/bench_breakeven.py [--shapes 784x300] [--batch 100]
                                         [--densities 1,0.5,0.3,0.2,0.1,0.05,0.02,0.01]

One prunable Linear layer (in x out, batch 100 by default) with a random mask of each
density, forward and backward (input and weight gradients, as for a hidden layer), timed
alternating (``common.py``): minisnip computing densely with ``c * w``, minisnip with its
sparse kernel (``use_sparse_kernels``/``use_sparse_kernel``, as ``bench_sparse.py``), and
PyTorch masked (``weight * mask``) and unmasked. The break-even is the density below which
the sparse kernel is faster than minisnip's dense path (linear interpolation between the
measured densities). Writes benchmarks/results/breakeven.json.
"""
from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from benchmarks import common  # noqa: E402


def layer_sides(session, fan_in, fan_out, batch, density, rng) -> dict:
    import numpy as np
    import minisnip
    from minisnip import nn
    from benchmarks.nets import use_sparse_kernels
    mask = rng.random((fan_out, fan_in)) < density
    x = rng.standard_normal((batch, fan_in)).astype(np.float32)
    w = (rng.standard_normal((fan_out, fan_in)) / np.sqrt(fan_in)).astype(np.float32) * mask
    g = rng.standard_normal((batch, fan_out)).astype(np.float32)
    sides = {}
    for kind in ("dense", "sparse"):
        layer = nn.Linear(fan_in, fan_out)
        layer.weight.data[...] = w
        layer.c.data[...] = mask
        if kind == "sparse":
            use_sparse_kernels(layer)
        xt = minisnip.Tensor(x.copy(), requires_grad=True)

        def run(layer=layer, xt=xt):
            xt.grad = None
            layer.zero_grad()
            layer(xt).backward(g)
        sides[f"minisnip-{kind}"] = run
    torch = session.torch
    if torch is not None:
        from torch.nn.utils import prune
        for kind in ("masked", "dense"):
            layer = torch.nn.Linear(fan_in, fan_out)
            with torch.no_grad():
                layer.weight.copy_(torch.from_numpy(w))
            if kind == "masked":
                prune.custom_from_mask(layer, "weight", torch.from_numpy(mask.astype(np.float32)))
            tx = torch.from_numpy(x.copy()).requires_grad_()
            tg = torch.from_numpy(g)

            def run(layer=layer, tx=tx, tg=tg):
                tx.grad = None
                layer.zero_grad()
                layer(tx).backward(tg)
            sides[f"torch-{kind}"] = run
    return sides


def break_even(rows: list):
    """Highest density at which the sparse kernel still beats the dense path (interpolated
    where sparse/dense crosses 1); None if it never does, 1.0 if it always does."""
    pts = sorted((r["density"], r["sparse_over_dense"]) for r in rows)
    if all(ratio >= 1 for _, ratio in pts):
        return None
    if all(ratio < 1 for _, ratio in pts):
        return 1.0
    for (d0, r0), (d1, r1) in zip(pts, pts[1:]):
        if r0 < 1 <= r1:
            return d0 + (1 - r0) * (d1 - d0) / (r1 - r0)
    return max(d for d, ratio in pts if ratio < 1)


def main(argv=None):
    p = common.parser(__doc__, rounds=7, repeats=9, warmup=5)
    p.add_argument("--shapes", default="784x300", help="in x out, comma-separated")
    p.add_argument("--batch", type=int, default=100)
    p.add_argument("--densities", default="1,0.5,0.3,0.2,0.1,0.05,0.02,0.01")
    args = p.parse_args(argv)
    common.quick_settings(args, p, batch=8, densities="1,0.1,0.01")
    session = common.start("breakeven", args)
    import numpy as np
    rng = np.random.default_rng(0)
    results = {}
    for shape in args.shapes.split(","):
        fan_in, fan_out = (int(v) for v in shape.split("x"))
        rows = []
        print(f"Linear {fan_in} -> {fan_out}, batch {args.batch}, forward + backward, ms "
              f"(median of {args.rounds} rounds)")
        for density in (float(d) for d in args.densities.split(",")):
            sides = layer_sides(session, fan_in, fan_out, args.batch, density, rng)
            r = session.compare(f"density {density}", sides, "minisnip-dense", quiet=True)
            row = dict(density=density, ms={k: v["median"] * 1e3 for k, v in r["sides"].items()},
                       sparse_over_dense=r["ratios"]["minisnip-sparse / minisnip-dense"]["median"],
                       timing=r)
            rows.append(row)
            if len(rows) == 1:
                print(f"{'density':>8s} " + " ".join(f"{k:>16s}" for k in row["ms"])
                      + f" {'sparse/dense':>13s} {'other cores':>12s}")
            d = r["other_cores_per_round"]
            print(f"{density:8.3f} " + " ".join(f"{v:16.3f}" for v in row["ms"].values())
                  + f" {row['sparse_over_dense']:12.2f}x {min(d):5.2f}-{max(d):4.2f}")
        even = break_even(rows)
        print(f"break-even density (sparse kernel faster below): "
              f"{'never faster' if even is None else f'{even:.3f}'}")
        results[shape] = dict(fan_in=fan_in, fan_out=fan_out, batch=args.batch, rows=rows,
                              break_even_density=even)
    common.check_runtime_sharing(session)
    session.finish(results)


if __name__ == "__main__":
    main()
