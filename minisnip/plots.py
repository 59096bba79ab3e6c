"""Pictures of what SNIP keeps of the input (the paper's Figure 2), and how lessons show them.

The first layer's mask (hidden units x 784 inputs) averaged over the hidden units, as a 28x28
image: the fraction of hidden units still connected to each input pixel.

Figures are built with matplotlib's object API (``matplotlib.figure.Figure``), never through
``pyplot``: minisnip chooses no backend and leaves no figure open, so ``plt.show()`` in a
notebook keeps working after any minisnip plot. :func:`show` displays a figure inline in a
notebook and, run as a script, saves it (and says where).
"""
from __future__ import annotations

import os

import numpy as np

from .files import save_figure

PER_PIXEL = "fraction of hidden units\nconnected to the pixel"


def first_layer_picture(mask: np.ndarray, side: int = 28) -> np.ndarray:
    """Fraction of hidden units still connected to each input pixel, as a (side, side) image."""
    mask = np.asarray(mask, dtype=np.float64)
    if mask.ndim != 2 or mask.shape[1] != side * side:
        raise ValueError(f"first_layer_picture: expected a mask (hidden, {side * side}), got "
                         f"shape {mask.shape}")
    return mask.mean(axis=0).reshape(side, side)


def _figure(**kwargs):
    from matplotlib.figure import Figure
    return Figure(**kwargs)


def figure2_panel(mask: np.ndarray, title: str = "", image: np.ndarray = None):
    """One panel: the kept fraction per pixel (optionally beside an example input image)."""
    panels = 2 if image is not None else 1
    fig = _figure(figsize=(3.4 * panels, 3.4), layout="constrained")
    axes = fig.subplots(1, panels, squeeze=False)[0]
    if image is not None:
        axes[0].imshow(np.asarray(image).reshape(28, 28), cmap="gray")
        axes[0].set_title("an input image", fontsize=9)
    picture = axes[-1].imshow(first_layer_picture(mask), cmap="viridis", vmin=0)
    axes[-1].set_title("what the first layer keeps", fontsize=9)
    fig.colorbar(picture, ax=axes[-1], fraction=0.046, label=PER_PIXEL)
    for ax in axes:
        ax.axis("off")
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


def figure2_grid(masks: dict, title: str = "", examples: dict = None):
    """The per-class grid of the paper's Figure 2: ``masks[class]`` is the first-layer mask
    SNIP chose from a mini-batch of that class only; ``examples[class]`` an image of the class
    (optional, shown in the top row). One colour scale for all, with its bar."""
    names = list(masks)
    rows = 2 if examples else 1
    fig = _figure(figsize=(1.5 * len(names) + 1.6, 1.7 * rows + 0.6), layout="constrained")
    axes = fig.subplots(rows, len(names), squeeze=False)
    pictures = [first_layer_picture(masks[n]) for n in names]
    top = max(float(p.max()) for p in pictures) or 1.0
    for j, (name, picture) in enumerate(zip(names, pictures)):
        if examples:
            axes[0, j].imshow(np.asarray(examples[name]).reshape(28, 28), cmap="gray")
        image = axes[-1, j].imshow(picture, cmap="viridis", vmin=0, vmax=top)
        axes[0, j].set_title(str(name), fontsize=8)
    for ax in axes.ravel():
        ax.set_xticks([])
        ax.set_yticks([])
        for spine in ax.spines.values():
            spine.set_visible(False)
    if examples:
        axes[0, 0].set_ylabel("an image\nof the class", fontsize=8)
    axes[-1, 0].set_ylabel("kept by SNIP\non that class", fontsize=8)
    fig.colorbar(image, ax=axes[-1, :].tolist(), fraction=0.02, label=PER_PIXEL)
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


def save_figure2(mask: np.ndarray, path: str, title: str = "", image: np.ndarray = None) -> str:
    """:func:`figure2_panel` written as PNG; returns the path."""
    return save_figure(figure2_panel(mask, title, image), path)


def save_figure2_grid(masks: dict, path: str, title: str = "", examples: dict = None) -> str:
    """:func:`figure2_grid` written as PNG; returns the path."""
    return save_figure(figure2_grid(masks, title, examples), path)


def in_notebook() -> bool:
    """Whether this runs in a Jupyter kernel (where a figure can be shown inline)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and "IPKernelApp" in getattr(shell, "config", {})


def output_path(name: str) -> str:
    """Where a script writes its figure ``name``: ``$MINISNIP_OUT`` (default
    ``minisnip-output/`` in the current folder)."""
    return os.path.join(os.environ.get("MINISNIP_OUT", "minisnip-output"), name)


def show(fig, name: str) -> str:
    """In a notebook, display ``fig`` inline; as a script, save it as ``output_path(name)``
    and print where. Returns the path (None in a notebook)."""
    if in_notebook():     # as a PNG: a Figure made without pyplot has no inline display
        import io
        from IPython.display import Image, display
        png = io.BytesIO()
        fig.savefig(png, format="png", dpi=100)
        display(Image(png.getvalue()))
        return None
    path = save_figure(fig, output_path(name))
    print(f"(figure saved as {path})")
    return path
