"""The paper's Figure 2: which input pixels SNIP keeps connected.

The first layer's mask (hidden units x 784 inputs) averaged over the hidden units and shown
as a 28x28 image: bright pixels keep many connections, dark ones were pruned away.
"""
from __future__ import annotations

import numpy as np

from .files import save_figure


def first_layer_picture(mask: np.ndarray, side: int = 28) -> np.ndarray:
    """Fraction of hidden units still connected to each input pixel, as a (side, side) image."""
    mask = np.asarray(mask, dtype=np.float64)
    if mask.ndim != 2 or mask.shape[1] != side * side:
        raise ValueError(f"first_layer_picture: expected a mask (hidden, {side * side}), got "
                         f"shape {mask.shape}")
    return mask.mean(axis=0).reshape(side, side)


def _pyplot():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def save_figure2(mask: np.ndarray, path: str, title: str = "", image: np.ndarray = None) -> str:
    """One Figure-2 panel (optionally beside an example input image) written as PNG."""
    plt = _pyplot()
    panels = 2 if image is not None else 1
    fig, axes = plt.subplots(1, panels, figsize=(3.2 * panels, 3.4), squeeze=False)
    if image is not None:
        axes[0, 0].imshow(np.asarray(image).reshape(28, 28), cmap="gray")
        axes[0, 0].set_title("input")
    ax = axes[0, -1]
    im = ax.imshow(first_layer_picture(mask), cmap="viridis", vmin=0)
    ax.set_title("kept connections per pixel", fontsize=9)
    fig.colorbar(im, ax=ax, fraction=0.046)
    return _finish(fig, axes, title, path)


def save_figure2_grid(masks: dict, path: str, title: str = "", examples: dict = None) -> str:
    """The per-class grid: ``masks[class_name]`` is the first-layer mask SNIP chose from a
    mini-batch of that class only; ``examples[class_name]`` an image of the class (optional)."""
    plt = _pyplot()
    names = list(masks)
    rows = 2 if examples else 1
    fig, axes = plt.subplots(rows, len(names), figsize=(1.6 * len(names), 1.8 * rows),
                             squeeze=False)
    for j, name in enumerate(names):
        if examples:
            axes[0, j].imshow(np.asarray(examples[name]).reshape(28, 28), cmap="gray")
        axes[-1, j].imshow(first_layer_picture(masks[name]), cmap="viridis", vmin=0)
        axes[0, j].set_title(str(name), fontsize=8)
    return _finish(fig, axes, title, path)


def _finish(fig, axes, title, path) -> str:
    """Axes off, the title on top, write the PNG (and close the figure)."""
    for a in axes.ravel():
        a.axis("off")
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    save_figure(fig, path)
    _pyplot().close(fig)
    return path
