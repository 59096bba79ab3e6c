# %% [markdown]
# # Lesson 9: the paper's experiments in miniature
#
# Three of the paper's experiments, each small enough to run here in well under a minute on the
# Fashion-MNIST subset that ships with minisnip:
#
# 1. **Figure 3, the scoring batch.** SNIP scores connections on one mini-batch D^b. How much
#    does what it keeps depend on |D^b|: one image, ten, a hundred, the whole training set?
# 2. **Figure 4, random labels.** A dense network can memorize labels that mean nothing. Can
#    the network SNIP pruned to 99%, scored on the *true* labels?
# 3. **Table 3, the initialization SNIP scores on.** Does it matter whether the scored network
#    was drawn from RN, TN, VS-X or VS-H, when training then starts from the same VS-X weights?
#
# Every run below is `train.run(RunConfig(...))`, the function `minisnip train` and
# `minisnip experiment` call, with the settings the full experiments use
# (`prune_batch`, `shuffled_labels`, `score_init`); the pictures are drawn by the experiments'
# own drawing functions. The full versions: `minisnip experiment figure3`, `figure4`, `table3`.
# In miniature the numbers are noisy and far from the paper's; look at the trends.

# %%
import os
import tempfile

import matplotlib.pyplot as plt  # no backend chosen here: inline in a notebook, default in a script
import numpy as np

from minisnip.experiments import figure3, figure4, table3
from minisnip.plots import first_layer_picture
from minisnip.train import RunConfig, run

FAST = os.environ.get("MINISNIP_FAST") == "1"
OUT = os.environ.get("MINISNIP_OUT") or os.path.join(tempfile.gettempdir(), "minisnip-lesson09")
os.makedirs(OUT, exist_ok=True)
MINI = dict(dataset="fashion-mini", quiet=True)  # 4,500 training images, 500 validation, 1,000 test


def save(fig, name):
    """Save the figure (a script's output); a notebook also shows it below the cell."""
    path = os.path.join(OUT, name)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    print("saved", path)


# %% [markdown]
# ## 1. Figure 3: how many images should SNIP look at?
#
# LeNet-300-100 pruned to 90%, scored on |D^b| = 1, 10, 100, 1000 images or the whole training
# split (`prune_batch=None`: g is the gradient of the mean loss over all 4,500 images, computed
# in pieces of 1,000 whose losses are weighted so that the sum is exactly that gradient). The
# pictures show, per input pixel, the fraction of the 300 first-layer units still connected to
# it. We also count how many of the kept first-layer connections each mask shares with the
# whole split's.

# %%
BATCHES = (1, 10, 100, None) if FAST else (1, 10, 100, 1000, None)
EPOCHS = 1 if FAST else 3
masks, errors = {}, {}
for b in BATCHES:
    record, model = run(RunConfig(model="lenet300", sparsity=0.9, prune_batch=b, epochs=EPOCHS,
                                  milestones=(), **MINI), return_model=True)
    masks[b] = model.fc1.c.data.astype(bool)
    errors[b] = record["test_error"]

whole = masks[None]
print(f"{'|D^b|':>20s}  test error  first-layer connections shared with the whole split's")
for b in BATCHES:
    shared = (masks[b] & whole).sum() / whole.sum()
    print(f"{figure3.batch_label(b):>20s}  {errors[b]:9.2f}%  {shared:.1%}")

fig, axes = plt.subplots(1, len(BATCHES), figsize=(2.2 * len(BATCHES), 2.6))
image = figure3.draw_pictures(axes, [first_layer_picture(masks[b]).ravel() for b in BATCHES],
                              [f"|D^b| = {b:,}" if b else "the whole split" for b in BATCHES])
fig.colorbar(image, ax=list(axes), fraction=0.02, label="kept fraction")
save(fig, "figure3_scoring_batch.png")

# %% [markdown]
# One image gives a picture of that one image: SNIP keeps the connections of its pixels. With
# more images the picture becomes the shape the classes share, and it settles quickly: the masks
# from 100 and 1,000 images share most of their connections with the whole split's. The test
# errors after a short training say the same less clearly (they are noisy at this size).

# %% [markdown]
# ## 2. Figure 4: can the pruned network fit random labels?
#
# `shuffled_labels=True` trains on a seeded permutation of the training labels: each image gets
# another image's label, so there is nothing to learn but the images themselves. SNIP still
# scores the *true* labels. A network that memorizes drives its training loss towards 0. We train
# LeNet-300-100 (the paper uses LeNet-5-Caffe, slower) on 500 images with a constant learning
# rate of 0.05 and no weight decay, dense and pruned to 99%; and the dense network with L2
# (weight decay 5e-4).

# %%
CURVE_EPOCHS = 5 if FAST else 40
common = dict(model="lenet300", max_train=500, epochs=CURVE_EPOCHS, lr=0.05, milestones=(),
              val_fraction=0.0, **MINI)
cases = [("dense, true labels", dict(weight_decay=0.0)),
         ("dense, random labels", dict(weight_decay=0.0, shuffled_labels=True)),
         ("SNIP 99%, true labels", dict(weight_decay=0.0, sparsity=0.99)),
         ("SNIP 99%, random labels", dict(weight_decay=0.0, sparsity=0.99, shuffled_labels=True)),
         ("dense + L2, random labels", dict(weight_decay=5e-4, shuffled_labels=True))]
rows = []
for label, settings in cases:
    record = run(RunConfig(**common, **settings))
    history = record["history"]
    rows.append(dict(label=label, curves=[dict(seed=0, loss=[h["loss"] for h in history])]))
    print(f"{label:27s} training loss {history[0]['loss']:.3f} -> {history[-1]['loss']:.4f}, "
          f"training error {history[-1]['train_error']:5.1f}%, test error {record['test_error']:5.1f}%")

fig, ax = plt.subplots(figsize=(6.5, 4))
figure4.draw_loss_curves(ax, rows)
save(fig, "figure4_random_labels.png")

# %% [markdown]
# The dense network learns the random labels by heart within these 40 epochs: its training loss
# falls towards 0 while its test error stays at chance (90%), since what it learned means
# nothing. The network pruned to 99% learns the true labels but barely moves on the random ones
# in the same time: what SNIP kept serves the task, it is not a generic 1% of the connections.
# Weight decay (5e-4) does not stop the dense network from memorizing either.
# It is slower, not incapable: set `CURVE_EPOCHS = 80` and its loss on random labels starts to
# fall too. (`minisnip experiment figure4` runs the paper's network, LeNet-5-Caffe, on 2,000
# images.)

# %% [markdown]
# ## 3. Table 3: which initialization should SNIP score?
#
# `score_init="rn"` scores a *separate* network drawn from RN (its own random stream), and
# applies the mask it gives to the VS-X weights that training starts from: the scheme decides
# what is kept, not where training starts. (Scoring and training the same RN network is
# `RunConfig(init="rn")`, another question.) Adam, lr 1e-3, no weight decay, as in the paper.

# %%
SCHEMES = ("rn", "vs-x") if FAST else table3.SCHEMES
SEEDS = (0,) if FAST else (0, 1)
table = []
for scheme in SCHEMES:
    results = [run(RunConfig(model="lenet300", sparsity=0.9, score_init=scheme, seed=seed,
                             epochs=EPOCHS, optimizer="adam", lr=1e-3, weight_decay=0.0, **MINI))
               for seed in SEEDS]
    test_errors = [r["test_error"] for r in results]
    layers = results[0]["pruning"]["layers"]
    table.append(dict(model="lenet300", settings=dict(score_init=scheme),
                      mean_test_error=float(np.mean(test_errors)),
                      std_test_error=float(np.std(test_errors, ddof=1)) if len(SEEDS) > 1 else None))
    print(f"scored on {table3.SCHEME_NAMES[scheme]:5s}: test error "
          + " / ".join(f"{e:.2f}" for e in test_errors) + "%;  kept per layer: "
          + ", ".join(f"{layer['name'].split('.')[0]} {layer['density']:.1%}" for layer in layers))

fig, ax = plt.subplots(figsize=(4.5, 3.5))
table3.draw_bars(ax, table)
save(fig, "table3_scoring_initialization.png")

# %% [markdown]
# For LeNet-300-100 the four schemes give the same per-layer densities to within a few points
# and test errors within the noise of two seeds: SNIP's choice here hardly depends on the
# scale of the weights it scores. The paper reports that RN and TN fail for recurrent networks;
# `minisnip experiment table3` asks that of LSTM-s and GRU-s (results/README.md discusses it).

# %%
print("lesson 9 done")
