"""Issue 11, goal 3: the break-even density of the sparse kernels, layer shape by layer shape.

    python benchmarks/bench_breakeven.py [--shapes 784x300] [--convs 20x50x5@12,64x64x3@8p1]
                                         [--batch 100]
                                         [--densities 1,0.5,0.3,0.2,0.1,0.05,0.02,0.01]

One prunable layer with a random mask of each density: a Linear layer (``--shapes``: in x
out) or a Conv2d (``--convs``: in x out channels x kernel @ input size, ``pN`` for padding N;
LeNet-5-Caffe's second convolution and a VGG-like 3x3 layer by default), batch 100 by
default, forward and backward (input and weight gradients, as for a hidden layer), timed
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


def parse_conv(text: str) -> dict:
    """``20x50x5@12p0`` -> in/out channels, kernel, input size, padding."""
    channels, _, rest = text.partition("@")
    size, _, padding = rest.partition("p")
    cin, cout, kernel = (int(v) for v in channels.split("x"))
    return dict(cin=cin, cout=cout, kernel=kernel, size=int(size), padding=int(padding or 0))


def layer_sides(session, shape, batch, density, rng) -> dict:
    """minisnip dense / sparse and PyTorch masked / unmasked, forward + backward of one
    layer: ``shape`` is ``(fan_in, fan_out)`` for a Linear layer or a ``parse_conv`` dict."""
    import numpy as np
    import minisnip
    from minisnip import nn
    from benchmarks.nets import use_sparse_kernels
    conv = isinstance(shape, dict)
    if conv:
        k, pad = shape["kernel"], shape["padding"]
        w_shape = (shape["cout"], shape["cin"], k, k)
        x_shape = (batch, shape["cin"], shape["size"], shape["size"])
        out = shape["size"] + 2 * pad - k + 1
        g_shape = (batch, shape["cout"], out, out)
        fan_in = shape["cin"] * k * k
    else:
        fan_in, fan_out = shape
        w_shape, x_shape, g_shape = (fan_out, fan_in), (batch, fan_in), (batch, fan_out)
    mask = rng.random(w_shape) < density
    x = rng.standard_normal(x_shape).astype(np.float32)
    w = (rng.standard_normal(w_shape) / np.sqrt(fan_in)).astype(np.float32) * mask
    g = rng.standard_normal(g_shape).astype(np.float32)

    def make(framework):
        if framework == "torch":
            torch = session.torch
            return (torch.nn.Conv2d(shape["cin"], shape["cout"], k, padding=pad) if conv
                    else torch.nn.Linear(fan_in, fan_out))
        return (nn.Conv2d(shape["cin"], shape["cout"], k, padding=pad) if conv
                else nn.Linear(fan_in, fan_out))

    sides = {}
    for kind in ("dense", "sparse"):
        layer = make("minisnip")
        layer.weight.data[...] = w
        layer.c.data[...] = mask
        if kind == "sparse":
            use_sparse_kernels(layer, True)  # at every density, not by the break-even
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
            layer = make("torch")
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
    p.add_argument("--shapes", default="784x300", help="Linear layers, in x out, comma-separated "
                                                       "('' for none)")
    p.add_argument("--convs", default="20x50x5@12,64x64x3@8p1",
                   help="Conv2d layers, in x out x kernel @ input size [pN], comma-separated "
                        "('' for none)")
    p.add_argument("--batch", type=int, default=100)
    p.add_argument("--densities", default="1,0.5,0.3,0.2,0.1,0.05,0.02,0.01")
    args = p.parse_args(argv)
    common.quick_settings(args, p, batch=8, densities="1,0.1,0.01", convs="4x6x3@8p1")
    layers = [(text, tuple(int(v) for v in text.split("x")), "Linear")
              for text in filter(None, args.shapes.split(","))]
    layers += [(text, parse_conv(text), "Conv2d") for text in filter(None, args.convs.split(","))]
    if not layers:
        p.error("no layer to time: give --shapes or --convs")
    session = common.start("breakeven", args)
    import numpy as np
    rng = np.random.default_rng(0)
    results = {}
    for text, shape, kind in layers:
        rows = []
        print(f"{kind} {text}, batch {args.batch}, forward + backward, ms "
              f"(median of {args.rounds} rounds)")
        for density in (float(d) for d in args.densities.split(",")):
            sides = layer_sides(session, shape, args.batch, density, rng)
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
        entry = dict(kind=kind, batch=args.batch, rows=rows, break_even_density=even)
        entry.update(shape if kind == "Conv2d" else dict(fan_in=shape[0], fan_out=shape[1]))
        results[text] = entry
    common.check_runtime_sharing(session)
    session.finish(results)


if __name__ == "__main__":
    main()
