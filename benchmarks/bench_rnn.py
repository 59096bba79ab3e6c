"""LSTM-s and GRU-s training steps (batch 100, 28 steps of 28 pixels, forward + backward +
Adam), minisnip vs PyTorch CPU in the same process with the same thread count.

    python benchmarks/bench_rnn.py [--threads 2] [--repeats 20]

When PyTorch is installed it also checks, with weights copied from minisnip into
torch.nn.LSTM / torch.nn.GRU, that both compute the same outputs and gradients (PyTorch's
gate order and bias placement). Writes benchmarks/results/rnn.json.
"""
from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from benchmarks.common import (machine_info, minisnip_step, set_threads, time_calls,  # noqa: E402
                               torch_step, write_result)


class _TorchSeq:
    def __init__(self, cell, hidden, torch):
        nn = torch.nn
        self.proj = nn.Linear(28, hidden)
        self.rnn = (nn.LSTM if cell == "lstm" else nn.GRU)(hidden, hidden, batch_first=True)
        self.fc = nn.Linear(hidden, 10)
        self.params = [*self.proj.parameters(), *self.rnn.parameters(), *self.fc.parameters()]

    def __call__(self, x):
        out, _ = self.rnn(self.proj(x))
        return self.fc(out[:, -1])


def check_against_torch(name, model, x, y):
    """Copy minisnip's weights into PyTorch and compare outputs and weight gradients."""
    import numpy as np
    import torch
    import minisnip
    from minisnip import functional as F
    cell = name.split("-")[0]
    tm = _TorchSeq(cell, model.rnn.hidden_size, torch)
    state = model.state_dict()
    with torch.no_grad():
        for tname, p in [*[(f"proj.{k}", v) for k, v in tm.proj.named_parameters()],
                         *[(f"rnn.{k}", v) for k, v in tm.rnn.named_parameters()],
                         *[(f"fc.{k}", v) for k, v in tm.fc.named_parameters()]]:
            p.copy_(torch.from_numpy(state[tname].astype(np.float32)))
    xs, ys = x[:8], y[:8]
    model.zero_grad()  # the timed steps left their gradients behind
    ours = model(minisnip.Tensor(xs))
    theirs = tm(torch.from_numpy(xs))
    F.cross_entropy(ours, ys).backward()
    torch.nn.CrossEntropyLoss()(theirs, torch.from_numpy(ys)).backward()
    out_err = float(np.abs(ours.data - theirs.detach().numpy()).max())
    ref = tm.rnn.weight_hh_l0.grad.numpy()
    grad_err = float(np.abs(model.rnn.weight_hh_l0.grad - ref).max() / np.abs(ref).max())
    model.zero_grad()
    print(f"{name}: max |minisnip - torch| output {out_err:.2e}, dL/dW_hh (relative to its largest entry) {grad_err:.2e}")
    return dict(output_max_abs_diff=out_err, weight_hh_grad_max_rel_diff=grad_err)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    set_threads(args.threads)
    import numpy as np
    rng = np.random.default_rng(0)
    x = rng.standard_normal((100, 28, 28)).astype(np.float32)
    y = rng.integers(0, 10, 100).astype(np.int64)
    results, models = {}, {}
    for name in ("lstm-s", "gru-s"):
        step, models[name] = minisnip_step(name, x, y, optimizer="adam", lr=1e-3)
        results[name] = dict(minisnip=time_calls(step, args.repeats))
    # PyTorch last: once its thread pool has run, Numba's parallel kernels measured slower
    for name in ("lstm-s", "gru-s"):
        r = results[name]
        try:
            import torch
            torch.set_num_threads(args.threads)
            tm = _TorchSeq(name.split("-")[0], 128, torch)
            r["torch"] = time_calls(torch_step(tm, tm.params, x, y, "adam", 1e-3), args.repeats)
            r["ratio_to_torch"] = r["minisnip"]["median_s"] / r["torch"]["median_s"]
            r["agreement"] = check_against_torch(name, models[name], x, y)
        except ImportError:
            r["ratio_to_torch"] = None
            print("PyTorch not installed: no comparison")
        torch_ms = r["torch"]["median_s"] * 1e3 if "torch" in r else float("nan")
        print(f"{name} step: minisnip {r['minisnip']['median_s'] * 1e3:7.2f} ms (first call "
              f"{r['minisnip']['first_call_s']:.1f} s), torch {torch_ms:7.2f} ms, ratio "
              f"{r['ratio_to_torch'] or float('nan'):.2f}x")
    path = write_result("rnn", dict(machine=machine_info(args.threads), batch=100, steps=28,
                                    results=results))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
