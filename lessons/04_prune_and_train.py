# %% [markdown]
# # Lesson 4: prune once, train the sparse network, and look at what SNIP keeps
#
# Algorithm 1 of the paper: initialize with variance scaling, compute the connection
# sensitivity on ONE mini-batch, keep the top kappa (Eq. 7), then train the sparse network
# in the standard way. We do it on the Fashion-MNIST subset that ships with minisnip, compare
# with random pruning, and draw the paper's Figure 2: which input pixels keep connections.

# %%
import os

import numpy as np

from minisnip import Tensor, functional as F, optim
from minisnip.data import batches, prepare
from minisnip.models import build_model
from minisnip.nn import init
from minisnip.plots import figure2_grid, show
from minisnip.pruners import prune
from minisnip.train import evaluate

FAST = os.environ.get("MINISNIP_FAST") == "1"
EPOCHS = 1 if FAST else 8
data = prepare("fashion-mini", layout="flat", seed=0)
CLASSES = ["T-shirt", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker",
           "Bag", "Boot"]
print(f"{len(data.x_train)} training images, {len(data.x_test)} test images")

# %% [markdown]
# ## Top-kappa (Eq. 7): exactly kappa, ties broken by position
# `top_kappa` ranks all layers' scores together and keeps exactly kappa of them. When scores
# tie, the connection with the lower global index wins (layers in order, row-major inside
# each), so the result never depends on the sort's mood, and all-equal scores still keep
# exactly kappa.

# %%
from minisnip.snip import top_kappa

scores = [np.array([[0.3, 0.1], [0.1, 0.0]]), np.array([0.1, 0.5])]
for kappa in (0, 2, 3, 4, 6):
    keep = top_kappa(scores, kappa)
    print(f"kappa={kappa}: layer 1 keeps {keep[0].astype(int).tolist()}, layer 2 keeps "
          f"{keep[1].astype(int).tolist()}")

# %% [markdown]
# ## Prune LeNet-300-100 on one batch

# %%
def pruned_model(method, sparsity=0.95, seed=0, x=None, y=None):
    model = build_model("lenet300")
    init.initialize(model, "vs-x", rng=seed)
    if x is None:
        idx = np.random.default_rng(seed).choice(len(data.x_train), 100, replace=False)
        x, y = data.x_train[idx], data.y_train[idx]
    report = prune(model, x, y, sparsity=sparsity, method=method, rng=seed)
    return model, report


model, report = pruned_model("snip")
print(report.table())

# %% [markdown]
# SNIP keeps very different fractions per layer: few of the 235,200 input connections,
# many more of the last layer's. Random pruning keeps 5% of every layer.
# The "effective" column counts the kept connections that still lie on a path from input to
# output: a hidden unit that lost all its inputs (or all its outputs) makes its remaining
# connections useless, so the network is a little sparser than the masks say.

# %% [markdown]
# ## Masked SGD
# The optimizer knows each weight's mask: pruned weights, their momentum and their weight
# decay stay exactly 0 through training.

# %%
def train(model, epochs=EPOCHS, lr=0.1):
    opt = optim.SGD(list(model.parameters()), lr=lr, momentum=0.9, weight_decay=5e-4)
    for epoch in range(epochs):
        for xb, yb in batches(data.x_train, data.y_train, 100, rng=np.random.default_rng(epoch)):
            loss = F.cross_entropy(model(Tensor(xb)), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
    return evaluate(model, data.x_test, data.y_test)[1]


for method in ("snip", "random"):
    model, report = pruned_model(method, sparsity=0.98)
    err = train(model)
    zeros_stayed = all(np.all(w.data[c.data == 0] == 0) for _, w, c in model.named_masks())
    print(f"{method:7s} at 98% sparsity: test error {err:5.2f}%   pruned weights still 0: {zeros_stayed}")
    assert zeros_stayed

# %% [markdown]
# ## What SNIP keeps: Figure 2
# Prune with a mini-batch of ONE class and average the first layer's mask over the hidden
# units: the picture shows which pixels stay connected. Each class's silhouette appears.
# What we see (not a claim of the paper): the inputs are standardized, so the background is
# a constant nonzero value and keeps connections too; the pixels SNIP drops are a ring
# around the object, where that class's images disagree with each other most.

# %%
masks, examples = {}, {}
for c, name in enumerate(CLASSES):
    idx = np.flatnonzero(data.y_train == c)[:100]
    model, _ = pruned_model("snip", sparsity=0.95, x=data.x_train[idx], y=data.y_train[idx])
    masks[name] = model.fc1.c.data
    examples[name] = data.x_train[idx[0]]
show(figure2_grid(masks, examples=examples,
                  title="SNIP at 95%: first-layer connections kept, per class"),
     "lesson04_figure2_per_class.png")

# %%
print("lesson 4 done")
