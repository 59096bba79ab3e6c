"""The paper's experiments, one command each: ``minisnip experiment NAME``.

Every experiment is a grid of training runs (model x pruner x sparsity x seed) with the
protocol of its issue. Each finished run is written to ``OUT/NAME/runs/*.json`` as soon as it
ends, and a run whose file exists is not repeated, so an interrupted experiment continues where
it stopped. At the end the table is written as JSON and Markdown (data first) and as a figure.
"""
from __future__ import annotations

import dataclasses
import json
import os
import time

EXPERIMENTS: dict = {}


@dataclasses.dataclass
class Experiment:
    name: str
    description: str
    models: tuple
    sparsities: tuple
    seeds: tuple = (0,)
    pruners: tuple = ("snip",)
    dataset: str = "fashion-mnist"
    reference: dict = dataclasses.field(default_factory=dict)  # (model, sparsity) -> PyTorch error
    tolerance: float = 0.8  # points of test error allowed against the reference

    def runs(self):
        for model in self.models:
            for pruner in self.pruners:
                for sparsity in self.sparsities:
                    if sparsity == 0 and pruner != self.pruners[0]:
                        continue  # the dense network does not depend on the pruner
                    for seed in self.seeds:
                        yield model, pruner, sparsity, seed


def register(experiment: Experiment) -> Experiment:
    EXPERIMENTS[experiment.name] = experiment
    return experiment


register(Experiment(
    name="lenet300-fashion",
    description="LeNet-300-100 on Fashion-MNIST: SNIP vs random pruning across sparsities "
                "(issue 3; the paper's Table 1 setting on Fashion-MNIST)",
    models=("lenet300",), sparsities=(0.0, 0.9, 0.95, 0.98, 0.99), seeds=(0, 1),
    pruners=("snip", "random"),
    reference={("lenet300", 0.0): 11.55, ("lenet300", 0.9): 11.6, ("lenet300", 0.95): 12.4,
               ("lenet300", 0.98): 14.5, ("lenet300", 0.99): 17.9}))

register(Experiment(
    name="lenet5-fashion",
    description="LeNet-5-Caffe on Fashion-MNIST, dense and SNIP (issue 4)",
    models=("lenet5",), sparsities=(0.0, 0.95, 0.98, 0.99), seeds=(0,),
    reference={("lenet5", 0.0): 9.1, ("lenet5", 0.95): 11.8, ("lenet5", 0.98): 13.4,
               ("lenet5", 0.99): 16.2}))

register(Experiment(
    name="rnn-fashion",
    description="LSTM-s and GRU-s on sequential (row-by-row) Fashion-MNIST, dense and SNIP at "
                "95% (issue 5)",
    models=("lstm-s", "gru-s"), sparsities=(0.0, 0.95), seeds=(0,),
    reference={("lstm-s", 0.0): 10.65, ("lstm-s", 0.95): 18.01, ("gru-s", 0.0): 9.99,
               ("gru-s", 0.95): 20.58}, tolerance=1.0))


def run_experiment(name: str, out: str = "runs", data_dir=None, epochs=None, max_train=None,
                   quiet=False) -> dict:
    """Run (or continue) experiment ``name``; returns and writes the summary."""
    from ..files import write_json
    from ..train import RunConfig, run
    if name not in EXPERIMENTS:
        raise ValueError(f"unknown experiment {name!r}; available: {', '.join(EXPERIMENTS)}")
    exp = EXPERIMENTS[name]
    folder = os.path.join(out, name)
    os.makedirs(os.path.join(folder, "runs"), exist_ok=True)
    for model, pruner, sparsity, seed in exp.runs():
        path = os.path.join(folder, "runs", f"{model}_{pruner}_{sparsity:g}_seed{seed}.json")
        if os.path.exists(path):
            continue
        print(f"\n=== {name}: {model} {pruner} sparsity {sparsity:g} seed {seed}", flush=True)
        config = RunConfig(model=model, dataset=exp.dataset, seed=seed, data_dir=data_dir,
                           sparsity=sparsity or None, pruner=pruner, epochs=epochs,
                           max_train=max_train, quiet=quiet)
        t0 = time.perf_counter()
        record = run(config)
        record["wall_seconds"] = time.perf_counter() - t0
        write_json(path, record)
    return summarize(name, out)


def summarize(name: str, out: str = "runs") -> dict:
    """Collect the finished runs of ``name`` into a table (JSON + Markdown + PNG)."""
    import numpy as np
    from ..files import write_json, write_text
    exp = EXPERIMENTS[name]
    folder = os.path.join(out, name)
    rows = {}
    for file in sorted(os.listdir(os.path.join(folder, "runs"))):
        with open(os.path.join(folder, "runs", file)) as f:
            r = json.load(f)
        pruner = (r.get("pruning") or {}).get("pruner", "dense")
        key = (r["model"], pruner, round(float(r.get("sparsity") or 0.0), 4))
        rows.setdefault(key, []).append(r["test_error"])
    table = []
    for (model, pruner, sparsity), errors in sorted(rows.items()):
        # the references are PyTorch runs of the dense network and of SNIP only
        ref = exp.reference.get((model, sparsity)) if pruner in ("snip", "dense") else None
        mean = float(np.mean(errors))
        table.append(dict(model=model, pruner=pruner, sparsity=sparsity, seeds=len(errors),
                          test_errors=errors, mean_test_error=mean, reference=ref,
                          difference=None if ref is None else mean - ref))
    summary = dict(experiment=name, description=exp.description, tolerance=exp.tolerance,
                   table=table)
    write_json(os.path.join(folder, "summary.json"), summary)
    lines = [f"# {name}", "", exp.description, "",
             "| model | pruner | sparsity | seeds | test error % (mean) | PyTorch reference | diff |",
             "|---|---|---|---|---|---|---|"]
    for row in table:
        ref = "" if row["reference"] is None else f"{row['reference']:.2f}"
        diff = "" if row["difference"] is None else f"{row['difference']:+.2f}"
        lines.append(f"| {row['model']} | {row['pruner']} | {row['sparsity']:g} | {row['seeds']} | "
                     f"{row['mean_test_error']:.2f} | {ref} | {diff} |")
    write_text(os.path.join(folder, "summary.md"), "\n".join(lines) + "\n")
    print("\n".join(lines))
    _plot(summary, os.path.join(folder, "summary.png"))
    return summary


def _plot(summary, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from ..files import save_figure
    fig, ax = plt.subplots(figsize=(6, 4))
    series = {}
    for row in summary["table"]:
        series.setdefault((row["model"], row["pruner"]), []).append(
            (row["sparsity"], row["mean_test_error"]))
    dense = {row["model"]: row["mean_test_error"] for row in summary["table"]
             if row["pruner"] == "dense"}
    for (model, pruner), points in series.items():
        if pruner == "dense":
            continue
        points = sorted(points)
        ax.plot([100 * s for s, _ in points], [e for _, e in points], "o-",
                label=f"{model} {pruner}")
    for model, err in dense.items():
        ax.axhline(err, ls="--", color="gray", lw=1)
        ax.text(ax.get_xlim()[0], err, f" {model} dense", va="bottom", fontsize=8)
    ax.set_xlabel("sparsity (%)")
    ax.set_ylabel("test error (%)")
    ax.set_title(summary["experiment"])
    ax.legend()
    fig.tight_layout()
    save_figure(fig, path)
    plt.close(fig)
