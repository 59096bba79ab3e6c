"""The paper's Figure 2: for each class, prune LeNet-300-100 with SNIP on a mini-batch of that
class only and show which input pixels keep connections (first-layer mask averaged over the
hidden units, as 28x28). ``minisnip figure2`` writes the picture and its data (JSON)."""
from __future__ import annotations

import os

import numpy as np

CLASS_NAMES = {
    "fashion-mnist": ["T-shirt", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                      "Sneaker", "Bag", "Boot"],
    "fashion-mini": ["T-shirt", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                     "Sneaker", "Bag", "Boot"],
    "mnist": [str(d) for d in range(10)],
}


def figure2(out: str = "runs/figure2", dataset: str = "fashion-mnist", data_dir=None,
            sparsity: float = 0.95, batch: int = 100, seed: int = 0, download=False) -> str:
    from ..data import prepare
    from ..files import write_json
    from ..models import build_model
    from ..nn import init
    from ..plots import first_layer_picture, save_figure2_grid
    from ..snip import prune
    data = prepare(dataset, data_dir=data_dir, seed=seed, layout="flat", download=download)
    names = CLASS_NAMES.get(dataset, [str(c) for c in range(data.num_classes)])
    masks, examples, densities = {}, {}, {}
    rng = np.random.default_rng(seed)
    for c, name in enumerate(names):
        members = np.flatnonzero(data.y_train == c)
        idx = rng.choice(members, size=min(batch, len(members)), replace=False)
        model = build_model("lenet300", num_classes=data.num_classes)
        init.initialize(model, "vs-x", rng=np.random.default_rng([seed, 0]))
        prune(model, data.x_train[idx], data.y_train[idx], sparsity=sparsity)
        masks[name] = model.fc1.c.data.copy()
        examples[name] = data.x_train[idx[0]]
        densities[name] = first_layer_picture(masks[name]).round(4).tolist()
    os.makedirs(out, exist_ok=True)
    png = os.path.join(out, f"figure2_{dataset}.png")
    save_figure2_grid(masks, png, examples=examples,
                      title=f"SNIP at {sparsity:.0%} on one batch of each class: first-layer "
                            f"connections kept per pixel ({dataset})")
    write_json(os.path.join(out, f"figure2_{dataset}.json"),
               dict(dataset=dataset, sparsity=sparsity, batch=batch, seed=seed,
                    kept_fraction_per_pixel=densities))
    return png
