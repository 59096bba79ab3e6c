"""The paper's Table 1: the LeNets pruned by SNIP at the paper's sparsities, beside the methods
the paper compares with (LWC, DNS, LC, SWS, SO-PR, L-OBS).

``minisnip experiment table1``: LeNet-300-100 at 95% and 98%, LeNet-5-Caffe at 98% and 99%, and
both dense, seeds 0 and 1: every run is also one of Figure 1's, so with the same ``--out`` the
records are shared. What we measure is tabled apart from what the paper reports: the paper's
comparison rows are *quoted* figures with their source, never mixed with ours. We could not
read the paper's Table 1 from the machine this was written on, so no number of it is quoted
(the rows say so instead of printing numbers from memory).
"""
from __future__ import annotations

from .figure1 import model_name, plot
from .paper import NOT_READ, PAPER
from .pytorch_reference import PYTORCH_SOURCE, reference_of
from .registry import Experiment, grid, register
from .summary import about_lines, mean_std

SPARSITIES = {"lenet300": (0.95, 0.98), "lenet5": (0.98, 0.99)}
SEEDS = (0, 1)
COMPARED_METHODS = ("LWC", "DNS", "LC", "SWS", "SO-PR", "L-OBS")

# The paper's comparison rows, as quoted: a row's "errors" stay None until read in a source
# (and then the source goes in "source", where it was read, with the page or table).
QUOTED = dict(
    source=f"{PAPER}, Table 1 (pruning results on MNIST)",
    note=(f"Not quoted: {NOT_READ}, and no other copy of its Table 1 could be checked. The "
          f"rows are listed so that a reader knows what the paper compares with; read their "
          f"numbers in the paper itself. They are MNIST numbers, ours are on Fashion-MNIST "
          f"unless the summary says otherwise: the two are not comparable anyway."),
    rows=[dict(method=method, errors=None) for method in COMPARED_METHODS],
)


def markdown(summary: dict) -> str:
    """Our measurements (mean ± std over seeds, the dense network, the difference), then the
    paper's comparison rows under their own heading, with their source."""
    lines = [f"# {summary['title']}", "", summary["description"], ""]
    lines += about_lines(summary)
    rows = summary["table"]
    dense = {row["model"]: row for row in rows if row["pruner"] == "dense"}
    show_reference = summary["reference"]["comparable"]
    head = ["network", "sparsity", "test error % (mean ± std)", "per seed", "dense",
            "pruned - dense"]
    if show_reference:
        head.append(f"{summary['reference']['name']} per seed")
    lines += ["", "## Measured here", "", "| " + " | ".join(head) + " |",
              "|" + "---|" * len(head)]
    for row in rows:
        ref = dense.get(row["model"])
        gap = ("" if row["pruner"] == "dense" or ref is None or ref["mean_test_error"] is None
               or row["mean_test_error"] is None
               else f"{row['mean_test_error'] - ref['mean_test_error']:+.2f}")
        cells = [model_name(row["model"]),
                 "dense" if row["pruner"] == "dense" else f"{100 * row['sparsity']:g}%",
                 mean_std(row) or "not run",
                 " / ".join("not run" if e is None else f"{e:.2f}" for e in row["test_errors"]),
                 mean_std(ref) if ref else "", gap]
        if show_reference:
            cells.append(" / ".join("-" if v is None else f"{v:.2f}" for v in row["reference"]))
        lines.append("| " + " | ".join(cells) + " |")
    quoted = summary.get("quoted") or {}
    lines += ["", "## Quoted from the paper (not measured here)", "",
              f"Source: {quoted.get('source', '')}.", "", quoted.get("note", ""), "",
              "| method | test error % as the paper reports it |", "|---|---|"]
    for row in quoted.get("rows", []):
        errors = row.get("errors")
        lines.append(f"| {row['method']} | "
                     f"{'not quoted (no verifiable copy)' if errors is None else errors} |")
    return "\n".join(lines) + "\n"


TABLE1 = register(Experiment(
    name="table1",
    title="Table 1: the LeNets pruned by SNIP at the paper's sparsities",
    description=(
        "LeNet-300-100 at 95% and 98% sparsity and LeNet-5-Caffe at 98% and 99%, pruned once "
        "at initialization by SNIP and trained with the protocol (LeNet-5-Caffe at lr 0.01), "
        "beside the dense networks; seeds 0 and 1 (the same runs as Figure 1's). The paper's "
        "comparison rows (" + ", ".join(COMPARED_METHODS) + ") are listed apart, as quoted "
        "figures with their source."),
    runs=sum((grid(models=(model,), sparsities=(0.0,) + SPARSITIES[model], seeds=SEEDS)
              for model in SPARSITIES), ()),
    reference=reference_of(*SPARSITIES), reference_source=PYTORCH_SOURCE,
    reference_name="PyTorch reference", reference_dataset="fashion-mnist", tolerance=0.8,
    quoted=QUOTED, markdown=markdown, plot=plot))
