"""Matrix products: minisnip's matmul against NumPy's ``@`` (OpenBLAS) and PyTorch, on the
products of a LeNet-300-100 training step at batch 100 (forward, input gradient, weight
gradient), timed alternating (``common.py``).

    python benchmarks/bench_matmul.py [--batch 100] [--rounds 7] [--repeats 20] [--quick]

The operands are laid out as the engine passes them (W stored (out, in), so the forward's
right operand is a transposed view; the weight gradient's left operand is grad.T). minisnip's
product is called through the public ``Tensor @`` (under ``no_grad``): a few microseconds of
Python per call, which the smallest products show. Writes benchmarks/results/matmul.json.
"""
from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from benchmarks import common  # noqa: E402

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


def main(argv=None):
    p = common.parser(__doc__, rounds=7, repeats=20, warmup=5)
    p.add_argument("--batch", type=int, default=100)
    args = p.parse_args(argv)
    common.quick_settings(args, p, batch=8)
    session = common.start("matmul", args)
    import numpy as np
    import minisnip
    torch = session.torch
    rows = []
    with minisnip.no_grad():
        for name, a, b in products(args.batch, np.random.default_rng(0)):
            ta, tb = minisnip.Tensor(a), minisnip.Tensor(b)
            sides = {"minisnip": lambda: ta @ tb, "numpy": lambda: a @ b}
            if torch is not None:
                pa, pb = torch.from_numpy(a), torch.from_numpy(b)
                sides["torch"] = lambda: pa @ pb
            r = session.compare(name, sides, "numpy", quiet=True)
            flops = 2 * a.shape[0] * a.shape[1] * b.shape[1]
            row = dict(product=name, m=a.shape[0], k=a.shape[1], n=b.shape[1],
                       gflops={s: flops / v["median"] / 1e9 for s, v in r["sides"].items()},
                       timing=r)
            rows.append(row)
            if len(rows) == 1:
                print(f"{'product':40s} " + " ".join(f"{s + ' GFLOP/s':>16s}" for s in row["gflops"])
                      + f" {'minisnip/numpy':>15s}")
            ratio = r["ratios"]["minisnip / numpy"]
            print(f"{name:40s} " + " ".join(f"{v:16.1f}" for v in row["gflops"].values())
                  + f" {ratio['median']:8.2f}x ({ratio['min']:.2f}-{ratio['max']:.2f})")
    common.check_runtime_sharing(session)
    session.finish(rows)


if __name__ == "__main__":
    main()
