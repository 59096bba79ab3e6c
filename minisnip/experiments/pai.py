"""Pruning at initialization, the family side by side: SNIP, GraSP, SynFlow, iterative SNIP,
FORCE, magnitude and random pruning, with the sanity checks of Frankle et al. (ICLR 2021):
each method's mask inverted, shuffled within each layer, and with re-drawn weights.

Every run uses the protocol of its model (``train.PROTOCOLS``) and the one pruning batch of
its seed; the methods differ only in ``--pruner``. The table puts the methods in rows and the
sanity checks in columns, then lists every mask's per-layer densities (the shuffled and
re-initialized masks have the per-layer densities of the method's own by construction).
"""
from __future__ import annotations

import statistics

from .registry import Experiment, grid, register

METHODS = ("snip", "grasp", "synflow", "iter-snip", "force", "magnitude", "random")
# random's sanity checks are random pruning again (another draw, its own uniform densities)
CHECKED = tuple(m for m in METHODS if m != "random")
CHECKS = ("inverted", "shuffled", "reinit")
COLUMNS = ("as chosen",) + CHECKS


def _with_checks(methods, checks=CHECKS):
    return tuple(methods) + tuple(f"{m}-{c}" for m in methods for c in checks)


# ------------------------------------------------------------------------------- the table
def _method_and_check(pruner: str) -> tuple:
    from ..pruners import parse_method
    if pruner == "dense":
        return "dense", "as chosen"
    base, check = parse_method(pruner)
    return base, check or "as chosen"


def pai_table(experiment, planned, found, comparable) -> list:
    """The default rows (one per model, pruner and sparsity, test error per seed), each with
    its method and sanity check apart, and the per-layer densities and effective sparsity of
    its masks (mean over the seeds that finished), read from the records' pruning reports."""
    from .summary import default_table
    rows = default_table(experiment, planned, found, comparable)
    densities = {}
    for run in planned:
        record = found.get(run.key)
        pruning = record.data.get("pruning") if record is not None else None
        if not pruning:
            continue
        key = (run.config.model, run.config.pruner, float(run.config.sparsity))
        entry = densities.setdefault(key, dict(layers={}, effective=[]))
        for layer in pruning["layers"]:
            entry["layers"].setdefault(layer["name"], []).append(layer["density"])
        if pruning.get("effective_sparsity") is not None:
            entry["effective"].append(pruning["effective_sparsity"])
    for row in rows:
        row["method"], row["check"] = _method_and_check(row["pruner"])
        entry = densities.get((row["model"], row["pruner"], row["sparsity"]))
        row["layer_densities"] = ({name: statistics.fmean(v) for name, v in entry["layers"].items()}
                                  if entry else {})
        row["effective_sparsity"] = (statistics.fmean(entry["effective"])
                                     if entry and entry["effective"] else None)
    return rows


def _cell(row) -> str:
    if row is None:
        return ""
    done = [e for e in row["test_errors"] if e is not None]
    if not done:
        return "not run"
    seeds = " / ".join("-" if e is None else f"{e:.2f}" for e in row["test_errors"])
    return f"**{statistics.fmean(done):.2f}**" + (f" ({seeds})" if len(row["test_errors"]) > 1
                                                  else "")


def pai_markdown(summary: dict) -> str:
    """Two tables: test error with methods in rows and sanity checks in columns; the per-layer
    densities (%) and effective sparsity of each method's mask and of its inversion."""
    from .summary import _about
    lines = [f"# {summary['title']}", "", summary["description"], ""] + _about(summary)
    rows = summary["table"]
    models = list(dict.fromkeys(r["model"] for r in rows))
    lines += ["", "## Test error (%) side by side", "",
              "Mean over the seeds in bold, each seed in brackets. *as chosen*: the method's "
              "mask; *inverted*: the lowest scores kept (at every round for an iterative "
              "method); *shuffled*: the method's per-layer counts at random positions (random "
              "pruning with the method's layer densities); *reinit*: the method's mask with "
              "freshly drawn weights.", ""]
    head = ["model", "sparsity", "method"] + list(COLUMNS)
    lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    cells = {(r["model"], r["sparsity"], r["method"], r["check"]): r for r in rows}
    for model in models:
        for sparsity in sorted({r["sparsity"] for r in rows if r["model"] == model}):
            methods = list(dict.fromkeys(r["method"] for r in rows
                                         if r["model"] == model and r["sparsity"] == sparsity))
            for method in methods:
                row = [model, f"{sparsity:g}", method]
                row += [_cell(cells.get((model, sparsity, method, c))) for c in COLUMNS]
                lines.append("| " + " | ".join(row) + " |")
    lines += ["", "## Where each mask keeps its connections", "",
              "Density (%) of every prunable layer, mean over seeds, and the effective sparsity "
              "(connections on no input-output path counted as removed). Shuffled and "
              "re-initialized masks have the densities of the method's own.", ""]
    for model in models:
        pruned = [r for r in rows if r["model"] == model and r["layer_densities"]
                  and r["check"] in ("as chosen", "inverted")]
        if not pruned:
            continue
        names = list(pruned[0]["layer_densities"])
        head = ["model", "sparsity", "method"] + names + ["effective sparsity"]
        lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for r in sorted(pruned, key=lambda r: r["sparsity"]):
            effective = ("" if r["effective_sparsity"] is None
                         else f"{100 * r['effective_sparsity']:.2f}")
            lines.append("| " + " | ".join(
                [model, f"{r['sparsity']:g}", r["pruner"]]
                + [f"{100 * r['layer_densities'].get(n, float('nan')):.2f}" for n in names]
                + [effective]) + " |")
        lines.append("")
    return "\n".join(lines) + "\n"


def pai_plot(summary: dict, path: str) -> None:
    """Test error against sparsity: every method's own mask in the first panel (the dense
    network dashed), then one panel per method with its sanity checks."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from ..files import save_figure
    rows = [r for r in summary["table"] if r["mean_test_error"] is not None]
    methods = [m for m in METHODS if any(r["method"] == m for r in rows)]
    checked = [m for m in methods if any(r["method"] == m and r["check"] != "as chosen"
                                         for r in rows)]
    panels = 1 + len(checked)
    cols = min(panels, 4)
    fig, axes = plt.subplots((panels + cols - 1) // cols, cols, figsize=(3.6 * cols, 3.0 *
                             ((panels + cols - 1) // cols)), squeeze=False)
    dense = [r["mean_test_error"] for r in rows if r["method"] == "dense"]

    colour = dict(zip(METHODS + COLUMNS, [f"C{i}" for i in range(len(METHODS))]
                      + ["black", "C3", "C2", "C0"]))

    def draw(ax, selected, label):
        points = sorted((100 * r["sparsity"], r["mean_test_error"]) for r in selected)
        if points:
            ax.plot([p for p, _ in points], [e for _, e in points], "o-", label=label, ms=3,
                    color=colour[label])

    for m in methods:
        draw(axes[0, 0], [r for r in rows if r["method"] == m and r["check"] == "as chosen"], m)
    axes[0, 0].set_title("each method's own mask", fontsize=9)
    for i, m in enumerate(checked, start=1):
        ax = axes[i // cols, i % cols]
        for check in COLUMNS:
            draw(ax, [r for r in rows if r["method"] == m and r["check"] == check], check)
        ax.set_title(f"{m}: sanity checks", fontsize=9)
    for ax in axes.ravel()[:panels]:
        for value in dense:
            ax.axhline(value, ls="--", color="gray", lw=1)
        ax.set_xlabel("sparsity (%)", fontsize=8)
        ax.set_ylabel("test error (%)", fontsize=8)
        ax.legend(fontsize=7)
    for ax in axes.ravel()[panels:]:
        ax.axis("off")
    fig.suptitle(summary["title"], fontsize=10)
    fig.tight_layout()
    save_figure(fig, path)
    plt.close(fig)


# --------------------------------------------------------------------------- the experiments
DESCRIPTION = (
    "{model} pruned once at initialization by each method, then trained with the protocol: "
    "SNIP (Lee et al. 2019), GraSP (Wang et al. 2020; theta * Hg, softmax temperature 200), "
    "SynFlow (Tanaka et al. 2020; data-free, 100 rounds), iterative SNIP and FORCE (de Jorge "
    "et al. 2021; 60 rounds), magnitude and random. The sanity checks of Frankle et al. (2021) "
    "ask whether a method's mask carries more than its per-layer densities: inverted, shuffled "
    "within each layer, re-initialized. {subset}")

register(Experiment(
    name="pai-lenet300",
    title="LeNet-300-100 on Fashion-MNIST: pruning at initialization, the family and the "
          "sanity checks",
    description=DESCRIPTION.format(
        model="LeNet-300-100", subset="Every method and every check (random pruning's checks "
        "are random pruning again, so they are not run) at 90-99% sparsity, two seeds."),
    runs=grid(models=("lenet300",), sparsities=(0.0, 0.9, 0.95, 0.98, 0.99), seeds=(0, 1),
              pruners=METHODS + tuple(f"{m}-{c}" for m in CHECKED for c in CHECKS)),
    table=pai_table, markdown=pai_markdown, plot=pai_plot))

register(Experiment(
    name="pai-lenet5",
    title="LeNet-5-Caffe on Fashion-MNIST: pruning at initialization, the family and the "
          "shuffle check",
    description=DESCRIPTION.format(
        model="LeNet-5-Caffe", subset="A run costs 8-10 minutes on one core, so one seed and "
        "the sparsities where the methods part ways: every method at 98%, with the shuffled "
        "mask of each data- or flow-driven method and SNIP inverted; the five scoring methods "
        "at 99%; the dense network. The seed-to-seed spread of pai-lenet300 is the yardstick "
        "for differences here."),
    runs=(grid(models=("lenet5",), sparsities=(0.0, 0.98), seeds=(0,), pruners=METHODS)
          + grid(models=("lenet5",), sparsities=(0.98,), seeds=(0,),
                 pruners=tuple(f"{m}-shuffled" for m in METHODS[:5]) + ("snip-inverted",))
          + grid(models=("lenet5",), sparsities=(0.99,), seeds=(0,), pruners=METHODS[:5])),
    table=pai_table, markdown=pai_markdown, plot=pai_plot))
