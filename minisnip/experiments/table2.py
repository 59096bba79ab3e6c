"""The paper's Table 2: SNIP on modern networks, dense and pruned, with their parameter counts.

Two experiments, because their data and cost differ:

* ``minisnip experiment table2-cifar10``: AlexNet-s/b, VGG-C/D/like and WRN-16-8/16-10/22-8 on
  CIFAR-10, dense and pruned by SNIP. Runs where CIFAR-10's binary files are (``--data-dir``,
  ``$MINISNIP_DATA``, the cache, or ``--download``). The training follows the paper's setup as
  quoted (see :mod:`.paper`): SGD, momentum 0.9, batch 128, weight decay 5e-4, lr 0.1 divided by
  10 every 30k iterations; at batch 128 on the 45,000 training images (10% held out) an epoch is
  352 steps, so the decays come after epochs 85 and 170. The paper's total number of
  iterations we could not read: we train three lr stages of 30k iterations (256 epochs), our
  choice. The standard augmentation (flips, 4-pixel shifts) is on, as for every CIFAR-10 run.
  ``--epochs N`` gives a reduced run (the summary says so). On this project's CPU an epoch
  takes from minutes (AlexNet) to hours (VGG, WRN): ``python -m
  minisnip.experiments.epoch_time MODEL ...`` times a few steps and extrapolates (an estimate,
  not a result).
* ``minisnip experiment table2-rnn``: LSTM-s/b and GRU-s/b on sequential Fashion-MNIST (rows of
  the image as 28 time steps), dense and pruned by SNIP to 95%, with the recurrent protocol
  (Adam, lr 1e-3, no weight decay, 10 epochs). The -s runs are rnn-fashion's.

The sparsities are the paper's Table 2's as we know them (AlexNet 90%, VGG-C/D 95%, VGG-like
97%, WRN 95%, LSTM/GRU 95%); we could not read the table to check them.
"""
from __future__ import annotations

import statistics

from .figure1 import model_name
from .paper import NOT_READ, PROTOCOL_SOURCE
from .pytorch_reference import PYTORCH_SOURCE, reference_of
from .registry import Experiment, grid, register
from .summary import (about_lines, default_table, mean_std, new_figure, not_the_protocol_note,
                      row_records, save_figure)

CIFAR_SPARSITY = {"alexnet-s": 0.9, "alexnet-b": 0.9, "vgg-c": 0.95, "vgg-d": 0.95,
                  "vgg-like": 0.97, "wrn-16-8": 0.95, "wrn-16-10": 0.95, "wrn-22-8": 0.95}
RNN_SPARSITY = {"lstm-s": 0.95, "lstm-b": 0.95, "gru-s": 0.95, "gru-b": 0.95}
FAMILIES = {"alexnet": "AlexNet", "vgg": "VGG", "wrn": "WRN", "lstm": "LSTM", "gru": "GRU"}
CIFAR_BATCH = 128
CIFAR_TRAIN_IMAGES = 45_000  # 50,000 with 10% held out for validation
ITERATIONS_PER_DECAY = 30_000
STEPS_PER_EPOCH = -(-CIFAR_TRAIN_IMAGES // CIFAR_BATCH)  # 352, the last batch partial
DECAY_EPOCHS = round(ITERATIONS_PER_DECAY / STEPS_PER_EPOCH)  # 85
CIFAR_TRAINING = dict(dataset="cifar10", batch_size=CIFAR_BATCH, optimizer="sgd", lr=0.1,
                      momentum=0.9, weight_decay=5e-4, milestones=(DECAY_EPOCHS,
                                                                   2 * DECAY_EPOCHS),
                      epochs=3 * DECAY_EPOCHS + 1)
SEEDS = (0,)


def family(model: str) -> str:
    return FAMILIES.get(model.split("-")[0], model)


def table(experiment, planned, found, comparable) -> list:
    """One row per network: its dense and pruned rows of the default table side by side, the
    parameter counts (all, and kept by the pruned network) and the mean seconds per epoch of
    each run, from the records."""
    rows = default_table(experiment, planned, found, comparable)
    by_model = {}
    for row in rows:
        records = [r for r in row_records(row, found) if r is not None]
        row["parameters"] = records[0].data.get("parameters") if records else None
        row["kept"] = records[0].data.get("kept") if records else None
        row["prunable"] = records[0].data.get("prunable") if records else None
        seconds = [h["seconds"] for r in records for h in r.data.get("history", [])]
        row["seconds_per_epoch"] = statistics.fmean(seconds) if seconds else None
        entry = by_model.setdefault(row["model"], dict(model=row["model"],
                                                        family=family(row["model"])))
        entry["dense" if row["pruner"] == "dense" else "pruned"] = row
    out = []
    for entry in by_model.values():
        dense, pruned = entry.get("dense"), entry.get("pruned")
        entry["sparsity"] = pruned["sparsity"] if pruned else None
        entry["difference"] = (None if not dense or not pruned or dense["mean_test_error"] is None
                               or pruned["mean_test_error"] is None
                               else pruned["mean_test_error"] - dense["mean_test_error"])
        # the summary's generic fields, for the runner's bookkeeping and --list
        entry["mean_test_error"] = pruned["mean_test_error"] if pruned else None
        out.append(entry)
    return out


def _millions(n) -> str:
    return "" if n is None else (f"{n / 1e6:.2f}m" if n >= 1e6 else f"{n / 1e3:.0f}k")


def markdown(summary: dict) -> str:
    lines = [f"# {summary['title']}", "", summary["description"], ""]
    lines += about_lines(summary)
    show_reference = summary["reference"]["comparable"] and any(
        any(v is not None for v in part.get("reference", []))
        for entry in summary["table"] for part in (entry.get("dense") or {},
                                                   entry.get("pruned") or {}))
    head = ["architecture", "network", "sparsity", "parameters (kept)",
            "test error % dense", "pruned", "pruned - dense", "seconds per epoch (dense, pruned)"]
    if show_reference:
        head.append(f"{summary['reference']['name']} dense, pruned")
    lines += ["", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for entry in summary["table"]:
        dense, pruned = entry.get("dense") or {}, entry.get("pruned") or {}
        parameters = dense.get("parameters") or pruned.get("parameters")
        kept = pruned.get("kept")
        cells = [entry["family"], model_name(entry["model"]),
                 "" if entry["sparsity"] is None else f"{100 * entry['sparsity']:g}%",
                 _millions(parameters) + (f" ({_millions(kept)} kept of "
                                          f"{_millions(pruned.get('prunable'))} prunable)"
                                          if kept is not None else ""),
                 mean_std(dense) or "not run", mean_std(pruned) or "not run",
                 "" if entry["difference"] is None else f"{entry['difference']:+.2f}",
                 ", ".join("-" if part.get("seconds_per_epoch") is None
                           else f"{part['seconds_per_epoch']:.1f}" for part in (dense, pruned))]
        if show_reference:
            cells.append(", ".join(" / ".join("-" if v is None else f"{v:.2f}"
                                              for v in part.get("reference", []))
                                   for part in (dense, pruned)))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def draw_dense_and_pruned(ax, entries: list) -> None:
    """Pairs of bars per network: the dense and the pruned network's mean test error."""
    width = 0.38
    for offset, part, label in ((-width / 2, "dense", "dense"), (width / 2, "pruned", "SNIP")):
        xs, means = [], []
        for i, entry in enumerate(entries):
            row = entry.get(part)
            if row and row["mean_test_error"] is not None:
                xs.append(i + offset)
                means.append(row["mean_test_error"])
        ax.bar(xs, means, width, label=label)
    ax.set_xticks(range(len(entries)))
    ax.set_xticklabels([f"{model_name(e['model'])}\n"
                        + ("" if e["sparsity"] is None else f"{100 * e['sparsity']:g}%")
                        for e in entries], fontsize=8)
    ax.set_ylabel("test error (%)")
    ax.legend(fontsize=8)


def plot(summary: dict, path: str) -> None:
    fig = new_figure(figsize=(max(5.0, 1.3 * len(summary["table"]) + 2), 4.2))
    draw_dense_and_pruned(fig.subplots(), summary["table"])
    fig.suptitle(summary["title"], fontsize=10)
    changed = not_the_protocol_note(fig, summary)
    fig.tight_layout(rect=(0, 0.04 if changed else 0, 1, 1))
    save_figure(fig, path)


def runs_of(sparsities: dict, **settings) -> tuple:
    return sum((grid(models=(model,), sparsities=(0.0, sparsity), seeds=SEEDS, **settings)
                for model, sparsity in sparsities.items()), ())


TABLE2_CIFAR = register(Experiment(
    name="table2-cifar10",
    title="Table 2: SNIP on AlexNet, VGG and WRN (CIFAR-10)",
    description=(
        "AlexNet-s/b, VGG-C/D/like and WRN-16-8/16-10/22-8 on CIFAR-10, dense and pruned once "
        "at initialization by SNIP (AlexNet 90%, VGG-C/D 95%, VGG-like 97%, WRN 95%), seed 0. "
        "Training as the paper's setup is quoted at " + PROTOCOL_SOURCE + ": SGD, momentum "
        "0.9, batch 128, weight decay 5e-4, lr 0.1 "
        f"divided by 10 after epochs {DECAY_EPOCHS} and {2 * DECAY_EPOCHS} (every 30k "
        f"iterations of {STEPS_PER_EPOCH} per epoch), {3 * DECAY_EPOCHS + 1} epochs in all "
        "(three lr stages: the paper's total we could not read, so this is our choice), with "
        "flips and 4-pixel shifts. The sparsities are the paper's Table 2's as we know them, "
        "not checked (" + NOT_READ + ")."),
    runs=runs_of(CIFAR_SPARSITY, **CIFAR_TRAINING), datasets=("cifar10",),
    table=table, markdown=markdown, plot=plot))

TABLE2_RNN = register(Experiment(
    name="table2-rnn",
    title="Table 2: SNIP on LSTM and GRU (sequential Fashion-MNIST)",
    description=(
        "LSTM-s/b and GRU-s/b reading each image row by row (28 steps of 28 pixels), dense and "
        "pruned once at initialization by SNIP to 95% sparsity, trained with the recurrent "
        "protocol (Adam, lr 1e-3, no weight decay, 10 epochs); seed 0. The -s runs are "
        "rnn-fashion's. The paper's RNN rows are on MNIST; the 95% sparsity is theirs as we "
        "know it, not checked (" + NOT_READ + ")."),
    runs=runs_of(RNN_SPARSITY),
    reference=reference_of(*RNN_SPARSITY), reference_source=PYTORCH_SOURCE,
    reference_name="PyTorch reference", reference_dataset="fashion-mnist",
    table=table, markdown=markdown, plot=plot))
