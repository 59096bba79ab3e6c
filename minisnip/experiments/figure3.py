"""The paper's Figure 3: how the scoring batch D^b changes what SNIP keeps.

``minisnip experiment figure3``: LeNet-300-100 pruned by SNIP to 90% with |D^b| = 1, 10, 100,
1000 images and the whole training split, then trained with the protocol; seeds 0 and 1. The
figure shows the first layer's surviving connections per input pixel (the fraction of the 300
hidden units still connected to it, as in Figure 2) for each |D^b|, and the pruned network's
test error against |D^b|.

The whole training split (``prune_batch=None``, 54,000 Fashion-MNIST images) is one scoring
batch in the paper's sense: g is the gradient of the *mean* loss over all of it. It is scored
in pieces of 1,000 images (``train.scoring_pieces``) whose losses are weighted by their share
of the mean, so that the summed g is exactly that of one forward-backward on all of them
(tested), without holding 54,000 images' activations at once.
"""
from __future__ import annotations

import numpy as np

from .figure1 import model_name
from .paper import NOT_READ
from .pytorch_reference import PYTORCH_SOURCE, reference_of
from .registry import Experiment, grid, register
from .summary import (about_lines, default_table, mean_std, new_figure, not_the_protocol_note,
                      row_records, save_figure)

BATCHES = (1, 10, 100, 1000, None)  # None: the whole training split
SPARSITY = 0.9
SEEDS = (0, 1)


def batch_label(prune_batch, scored=None) -> str:
    """``|D^b| = 100``; the whole split as ``whole (54,000)`` when the size is known."""
    if prune_batch is None:
        return "whole" + (f" ({scored:,})" if scored else " training split")
    return f"{prune_batch:,}"


def kept_fraction(record) -> np.ndarray:
    """The first layer's kept fraction per input, from a run record: (inputs,) floats."""
    first = record.data["pruning"]["first_layer"]
    return np.asarray(first["kept_per_input"], dtype=np.float64) / first["outputs"]


def table(experiment, planned, found, comparable) -> list:
    """The default rows (one per |D^b|), each with the images actually scored, the mean over
    seeds of the first layer's kept fraction per pixel (28 x 28), and how closely that
    picture follows the whole split's (Pearson correlation over the pixels)."""
    rows = default_table(experiment, planned, found, comparable)
    for row in rows:
        done = [r for r in row_records(row, found) if r is not None]
        row["prune_batch"] = row["settings"].get("prune_batch", 100)
        if row["prune_batch"] != 100:  # the reference scored 100 images
            row.update(reference=[None] * len(row["seeds"]), compared_seeds=[],
                       difference=None, within_tolerance=None)
        row["scored_images"] = done[0].data["pruning"]["prune_batch"] if done else None
        row["kept_fraction"] = (np.mean([kept_fraction(r) for r in done], axis=0)
                                .round(4).tolist() if done else None)
        row["picture_seeds"] = [r.config.seed for r in done]
    whole = next((row["kept_fraction"] for row in rows
                  if row["prune_batch"] is None and row["kept_fraction"] is not None), None)
    for row in rows:
        row["correlation_with_whole_split"] = (
            None if whole is None or row["kept_fraction"] is None
            else round(float(np.corrcoef(row["kept_fraction"], whole)[0, 1]), 4))
    return rows


def markdown(summary: dict) -> str:
    lines = [f"# {summary['title']}", "", summary["description"], ""]
    lines += about_lines(summary)
    head = ["|D^b|", "images scored", "test error % (mean ± std)", "per seed",
            "picture's correlation with the whole split's"]
    if summary["reference"]["comparable"]:
        head.append(f"{summary['reference']['name']} per seed")
    lines += ["", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in summary["table"]:
        corr = row["correlation_with_whole_split"]
        cells = [batch_label(row["prune_batch"]),
                 "" if row["scored_images"] is None else f"{row['scored_images']:,}",
                 mean_std(row) or "not run",
                 " / ".join("not run" if e is None else f"{e:.2f}" for e in row["test_errors"]),
                 "" if corr is None else f"{corr:.3f}"]
        if summary["reference"]["comparable"]:
            cells.append(" / ".join("-" if v is None else f"{v:.2f}" for v in row["reference"]))
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "The pictures (summary.png, data in summary.json as `kept_fraction`, 28 x 28 "
                  "row-major) are the mean over the seeds of the fraction of the 300 first-layer "
                  "units still connected to each pixel."]
    return "\n".join(lines) + "\n"


def draw_pictures(axes, pictures: list, titles: list, side: int = 28):
    """Kept-fraction pictures side by side on one colour scale; returns the last image (for
    a colour bar). ``pictures``: (side * side,) arrays or None (drawn empty, "not run")."""
    top = max([float(np.max(p)) for p in pictures if p is not None] or [1.0])
    image = None
    for ax, picture, title in zip(axes, pictures, titles):
        ax.set_title(title, fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
        if picture is None:
            ax.text(0.5, 0.5, "not run", ha="center", va="center", transform=ax.transAxes)
            continue
        image = ax.imshow(np.asarray(picture).reshape(side, side), cmap="viridis", vmin=0,
                          vmax=top)
    return image


def draw_error_vs_batch(ax, rows: list) -> None:
    """Test error against |D^b| on a log axis (the whole split at its size), seeds' range as
    bars."""
    points = [(row["scored_images"] or row["prune_batch"], row) for row in rows
              if row["mean_test_error"] is not None and (row["scored_images"] or
                                                         row["prune_batch"])]
    points.sort(key=lambda p: p[0])
    ax.set_xscale("log")
    if points:
        xs = [x for x, _ in points]
        means = [row["mean_test_error"] for _, row in points]
        errs = [[m - min(e for e in row["test_errors"] if e is not None) for m, (_, row) in
                 zip(means, points)],
                [max(e for e in row["test_errors"] if e is not None) - m for m, (_, row) in
                 zip(means, points)]]
        ax.errorbar(xs, means, yerr=errs, fmt="o-", capsize=3)
        ax.set_xticks(xs)
        ax.set_xticklabels([batch_label(row["prune_batch"], row["scored_images"])
                            for _, row in points], fontsize=8)
    ax.minorticks_off()
    ax.set_xlabel("|D^b|: images SNIP scores on")
    ax.set_ylabel("test error (%)")


def plot(summary: dict, path: str) -> None:
    rows = summary["table"]
    fig = new_figure(figsize=(2.3 * max(len(rows), 3), 6.0))
    grid_spec = fig.add_gridspec(2, len(rows), height_ratios=(1, 1.1))
    axes = [fig.add_subplot(grid_spec[0, i]) for i in range(len(rows))]
    image = draw_pictures(axes, [row["kept_fraction"] for row in rows],
                          [f"|D^b| = {batch_label(row['prune_batch'], row['scored_images'])}"
                           for row in rows])
    if image is not None:
        fig.colorbar(image, ax=axes, fraction=0.02, label="kept fraction")
    draw_error_vs_batch(fig.add_subplot(grid_spec[1, :]), rows)
    model = model_name(rows[0]["model"]) if rows else ""
    fig.suptitle(f"{summary['title']}\n{model}, first layer's connections kept per pixel, and "
                 f"test error", fontsize=10)
    not_the_protocol_note(fig, summary)
    save_figure(fig, path)


FIGURE3 = register(Experiment(
    name="figure3",
    title="Figure 3: the effect of the scoring batch |D^b| on what SNIP keeps",
    description=(
        "LeNet-300-100 pruned once at initialization by SNIP to 90% sparsity, scoring on "
        "|D^b| = 1, 10, 100, 1000 training images (chosen by the seed) or the whole training "
        "split, then trained with the protocol; seeds 0 and 1. The whole split is one scoring "
        "batch: g is the gradient of the mean loss over all of it, computed in pieces of 1,000 "
        "images whose losses are weighted by their share of the mean, so the summed g equals "
        "one forward-backward on the whole split. The pictures are the fraction of first-layer "
        "units connected to each pixel (as in Figure 2), averaged over the seeds. The "
        "|D^b| = 100 runs are the protocol's (shared with lenet300-fashion and Figure 1). "
        "The |D^b| values are those of the paper's Figure 3 as we know it, not checked "
        "against the paper itself (" + NOT_READ + "). The PyTorch reference scored 100 "
        "images: it is compared with the |D^b| = 100 row only."),
    runs=sum((grid(models=("lenet300",), sparsities=(SPARSITY,), seeds=SEEDS,
                   prune_batch=batch) for batch in BATCHES), ()),
    reference=reference_of("lenet300"), reference_source=PYTORCH_SOURCE,
    reference_name="PyTorch reference", reference_dataset="fashion-mnist",
    record_needs=("pruning.first_layer",),
    table=table, markdown=markdown, plot=plot))
