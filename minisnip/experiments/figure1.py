"""The paper's Figure 1: test error of the LeNets pruned by SNIP at a range of sparsities, with
the dense network's error drawn as a level.

``minisnip experiment figure1``: LeNet-300-100 (the SGD protocol, lr 0.1) and LeNet-5-Caffe
(lr 0.01), dense and SNIP at 50-99% sparsity, seeds 0 and 1. The sparsities are our choice
(we could not read the paper's x-axis); they include Table 1's and the PyTorch checks', so
those runs are shared (same settings, same record key).
"""
from __future__ import annotations

import statistics

from .paper import NOT_READ
from .pytorch_reference import PYTORCH_SOURCE, reference_of
from .registry import Experiment, grid, register
from .summary import new_figure, not_the_protocol_note, save_figure

SPARSITIES = (0.5, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99)
MODELS = ("lenet300", "lenet5")
SEEDS = (0, 1)
MODEL_NAMES = {"lenet300": "LeNet-300-100", "lenet5": "LeNet-5-Caffe", "lstm-s": "LSTM-s",
               "lstm-b": "LSTM-b", "gru-s": "GRU-s", "gru-b": "GRU-b", "alexnet-s": "AlexNet-s",
               "alexnet-b": "AlexNet-b", "vgg-c": "VGG-C", "vgg-d": "VGG-D",
               "vgg-like": "VGG-like", "wrn-16-8": "WRN-16-8", "wrn-16-10": "WRN-16-10",
               "wrn-22-8": "WRN-22-8"}


def model_name(model: str) -> str:
    return MODEL_NAMES.get(model, model)


def sparsity_axis(ax) -> None:
    """x = the kept fraction 1 - sparsity on a log scale, reversed and labelled by sparsity,
    so that 50% and 99% are as far apart as the paper's high sparsities deserve."""
    ax.set_xscale("log")
    ax.invert_xaxis()
    ticks = [0.5, 0.3, 0.2, 0.1, 0.05, 0.02, 0.01]
    ax.set_xticks(ticks)
    ax.set_xticklabels([f"{100 * (1 - t):g}" for t in ticks])
    ax.minorticks_off()
    ax.set_xlabel("sparsity (%)")


def draw_error_vs_sparsity(ax, rows: list, model: str, reference_name: str = "",
                           show_reference: bool = True) -> None:
    """One model's panel: SNIP's mean test error against sparsity (bars: the seeds' range),
    the dense network's mean as a dashed level, the reference's means as crosses. ``rows``:
    default-table rows (any models; only ``model``'s are drawn)."""
    mine = [row for row in rows if row["model"] == model and row["mean_test_error"] is not None]
    pruned = sorted((row for row in mine if row["pruner"] != "dense"),
                    key=lambda row: row["sparsity"])
    if pruned:
        kept = [1 - row["sparsity"] for row in pruned]
        means = [row["mean_test_error"] for row in pruned]
        low = [m - min(e for e in row["test_errors"] if e is not None)
               for m, row in zip(means, pruned)]
        high = [max(e for e in row["test_errors"] if e is not None) - m
                for m, row in zip(means, pruned)]
        ax.errorbar(kept, means, yerr=[low, high], fmt="o-", capsize=3, label="SNIP")
    for row in mine:
        if row["pruner"] == "dense":
            ax.axhline(row["mean_test_error"], ls="--", color="gray", lw=1,
                       label=f"dense ({row['mean_test_error']:.2f}%)")
    crosses = [(1 - row["sparsity"], statistics.fmean(ref)) for row in pruned
               for ref in [[v for v in row.get("reference", []) if v is not None]] if ref]
    if crosses and show_reference:
        ax.plot(*zip(*crosses), "x", color="black", markersize=7,
                label=reference_name or "reference")
    sparsity_axis(ax)
    ax.set_ylabel("test error (%)")
    ax.set_title(model_name(model), fontsize=10)
    if mine:
        ax.legend(fontsize=8)


def plot(summary: dict, path: str) -> None:
    """One panel per model, like the paper's Figure 1."""
    models = list(dict.fromkeys(row["model"] for row in summary["table"]))
    fig = new_figure(figsize=(5.0 * len(models), 4.0))
    axes = fig.subplots(1, len(models), squeeze=False)[0]
    for ax, model in zip(axes, models):
        draw_error_vs_sparsity(ax, summary["table"], model, summary["reference"]["name"],
                               summary["reference"]["comparable"])
    fig.suptitle(summary["title"], fontsize=10)
    changed = not_the_protocol_note(fig, summary)
    fig.tight_layout(rect=(0, 0.04 if changed else 0, 1, 1))
    save_figure(fig, path)


FIGURE1 = register(Experiment(
    name="figure1",
    title="Figure 1: test error of the LeNets pruned by SNIP, against sparsity",
    description=(
        "LeNet-300-100 (SGD, lr 0.1) and LeNet-5-Caffe (SGD, lr 0.01), dense and pruned once "
        "at initialization by SNIP to 50, 70, 80, 90, 95, 98 and 99% sparsity, then trained "
        "with the protocol; seeds 0 and 1; the dense network's error drawn as a level, the "
        "bars span the seeds. The sparsities are our choice (" + NOT_READ + ", so its "
        "x-axis is not copied). The runs at 90-99% and the dense ones are those of "
        "lenet300-fashion and lenet5-fashion and of Table 1 (same settings, same records)."),
    runs=grid(models=MODELS, sparsities=(0.0,) + SPARSITIES, seeds=SEEDS),
    reference=reference_of(*MODELS), reference_source=PYTORCH_SOURCE,
    reference_name="PyTorch reference", reference_dataset="fashion-mnist", tolerance=0.8,
    plot=plot))
