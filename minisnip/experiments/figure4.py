"""The paper's Figure 4: can the pruned network fit random labels?

``minisnip experiment figure4``: LeNet-5-Caffe, dense and pruned by SNIP to 99%, trained on the
true labels or on shuffled ones (a seeded permutation of the training labels:
``RunConfig.shuffled_labels``; SNIP always scores the *true* labels), and the dense network on
shuffled labels with L2 regularization (weight decay); the training loss per epoch of each.
A network that memorizes drives its training loss on shuffled labels towards 0.

To memorize in reasonable time the runs train on the first ``TRAIN_IMAGES`` training images
(no validation split: the runs read the first images of the official training set), with a
constant learning rate (no milestones) for ``EPOCHS`` epochs; measured, see results/README.md.
"""
from __future__ import annotations

from .figure1 import model_name
from .paper import NOT_READ
from .registry import Experiment, register
from .summary import (about_lines, default_table, new_figure, not_the_protocol_note,
                      row_records, save_figure)

TRAIN_IMAGES = 2000
EPOCHS = 60
SPARSITY = 0.99
L2 = 5e-4  # the protocol's weight decay (the paper's 0.0005)
SEEDS = (0,)
COMMON = dict(model="lenet5", max_train=TRAIN_IMAGES, val_fraction=0.0, epochs=EPOCHS,
              milestones=())


def curve_label(row: dict) -> str:
    """``dense, random labels``, ``SNIP 99%, true labels``, ``dense + L2, random labels``."""
    what = "dense" if row["pruner"] == "dense" else f"SNIP {100 * row['sparsity']:g}%"
    if row["settings"].get("weight_decay"):
        what += " + L2"
    labels = "random labels" if row["settings"].get("shuffled_labels") else "true labels"
    return f"{what}, {labels}"


def table(experiment, planned, found, comparable) -> list:
    """The default rows, each with its curve's label and, per seed, the training loss and
    training error (against the labels it trained on) of every epoch."""
    rows = default_table(experiment, planned, found, comparable)
    for row in rows:
        row["label"] = curve_label(row)
        done = [r for r in row_records(row, found) if r is not None]
        row["curves"] = [dict(seed=r.config.seed,
                              loss=[h["loss"] for h in r.data["history"]],
                              train_error=[h["train_error"] for h in r.data["history"]])
                         for r in done]
    return rows


def markdown(summary: dict) -> str:
    lines = [f"# {summary['title']}", "", summary["description"], ""]
    lines += about_lines(summary)
    head = ["network", "trained on", "final training loss", "final training error %",
            "first epoch with training error < 1%", "test error %"]
    lines += ["", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in summary["table"]:
        what, labels = row["label"].split(", ")
        for curve, error in zip(row["curves"], [e for e in row["test_errors"] if e is not None]):
            below = next((i + 1 for i, e in enumerate(curve["train_error"]) if e < 1.0), None)
            lines.append(f"| {what} | {labels} | {curve['loss'][-1]:.4f} | "
                         f"{curve['train_error'][-1]:.2f} | "
                         f"{'never' if below is None else below} | {error:.2f} |")
        if not row["curves"]:
            lines.append(f"| {what} | {labels} | not run | | | |")
    lines += ["", "Training error is measured against the labels the network trains on "
                  "(shuffled ones for the random-label runs); test error against the true "
                  "test labels. The curves are in summary.json (`curves`)."]
    return "\n".join(lines) + "\n"


STYLES = {"true labels": "-", "random labels": "--"}


def draw_loss_curves(ax, rows: list) -> None:
    """Training loss against epoch, one curve per row and seed: solid for true labels,
    dashed for random ones."""
    for row in rows:
        for curve in row["curves"]:
            labels = row["label"].split(", ")[1]
            ax.plot(range(1, len(curve["loss"]) + 1), curve["loss"], STYLES.get(labels, "-"),
                    label=row["label"] + (f" (seed {curve['seed']})"
                                          if len(row["curves"]) > 1 else ""))
    ax.set_xlabel("epoch")
    ax.set_ylabel("training loss")
    ax.set_yscale("log")
    if any(row["curves"] for row in rows):
        ax.legend(fontsize=8)


def plot(summary: dict, path: str) -> None:
    fig = new_figure(figsize=(7.0, 4.5))
    ax = fig.subplots()
    draw_loss_curves(ax, summary["table"])
    model = model_name(summary["table"][0]["model"]) if summary["table"] else ""
    ax.set_title(f"{summary['title']}\n{model}", fontsize=10)
    changed = not_the_protocol_note(fig, summary)
    fig.tight_layout(rect=(0, 0.04 if changed else 0, 1, 1))
    save_figure(fig, path)


def runs() -> tuple:
    from ..train import RunConfig
    declared = []
    for sparsity, shuffled, weight_decay in ((None, False, 0.0), (None, True, 0.0),
                                             (SPARSITY, False, 0.0), (SPARSITY, True, 0.0),
                                             (None, True, L2)):
        for seed in SEEDS:
            declared.append(RunConfig(seed=seed, sparsity=sparsity, shuffled_labels=shuffled,
                                      weight_decay=weight_decay, **COMMON))
    return tuple(declared)


FIGURE4 = register(Experiment(
    name="figure4",
    title="Figure 4: fitting random labels, dense and pruned by SNIP",
    description=(
        f"LeNet-5-Caffe dense and pruned by SNIP to {100 * SPARSITY:g}% sparsity, trained on "
        f"the true training labels or on a seeded permutation of them (SNIP always scores the "
        f"true labels), and the dense network on permuted labels with L2 regularization "
        f"(weight decay {L2:g}, the protocol's); the others have none. So that memorization "
        f"happens in reasonable time, every run trains on the first {TRAIN_IMAGES:,} images of "
        f"the training set (no validation split) for {EPOCHS} epochs at the protocol's "
        f"constant lr 0.01 (SGD, momentum 0.9, batch 100, no lr decay). The subset, epochs "
        f"and weight decay are our choice ({NOT_READ})."),
    runs=runs(), record_needs=("history",), table=table, markdown=markdown, plot=plot))
