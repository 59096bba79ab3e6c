# %% [markdown]
# # Lesson 8: beyond SNIP: GraSP, SynFlow, iterative SNIP, FORCE, and the sanity checks
#
# SNIP (lessons 3 and 4) scores every connection once, by how much the loss would change
# without it (|dL/dc| at c = 1). The methods that came after ask other questions:
#
# | method | looks at | asks | rounds |
# |---|---|---|---|
# | SNIP (Lee et al. 2019) | a mini-batch: dL/dc | which removals change the loss most? | 1 |
# | GraSP (Wang et al. 2020) | a mini-batch: H g | which removals shrink the gradient flow most? | 1 |
# | SynFlow (Tanaka et al. 2020) | no data: only \|W\| | how much "flow" passes through each weight? | 100 |
# | iterative SNIP (de Jorge et al. 2021) | a mini-batch | SNIP again on the pruned network | 60 |
# | FORCE (de Jorge et al. 2021) | a mini-batch | same, and a pruned connection may come back | 60 |
# | magnitude, random | \|w\|, nothing | baselines | 1 |
#
# Every method hands its scores to the same selection, `snip.top_kappa` (exactly kappa kept,
# ties to the lower index); the iterative ones do so at every round. Then the sanity checks of
# Frankle et al. (2021): does a method's mask know more than how many connections to keep in
# each layer? Here on LeNet-300-100 and the Fashion-MNIST subset that ships with minisnip
# (about 30 seconds on one core; on a busy machine `NUMBA_NUM_THREADS=1` is faster).

# %%
import os
import warnings

import numpy as np
from matplotlib.figure import Figure

from minisnip import optim
from minisnip.data import prepare
from minisnip.models import build_model
from minisnip.nn import init
from minisnip.pai.grasp import grasp_scores
from minisnip.pai.iterative import prune_iteratively
from minisnip.pai.synflow import synaptic_flow, synflow_scores
from minisnip.plots import first_layer_picture, show
from minisnip.pruners import ITERATIVE, prune
from minisnip.snip import connection_sensitivity
from minisnip.train import evaluate, train_epoch

FAST = os.environ.get("MINISNIP_FAST") == "1"
SPARSITY = 0.98
data = prepare("fashion-mini", layout="flat", seed=0)
if FAST:
    data.x_train, data.y_train = data.x_train[:1000], data.y_train[:1000]
pick = np.random.default_rng(0).choice(len(data.x_train), 100, replace=False)
x, y = data.x_train[pick], data.y_train[pick]          # the one pruning batch


def fresh(seed=0):
    """LeNet-300-100 at the same initialization every time: only the method changes."""
    model = build_model("lenet300")
    init.initialize(model, "vs-x", rng=seed)
    return model


print(f"{len(data.x_train)} training images, pruning batch of {len(x)}")

# %% [markdown]
# ## What each score looks at
# SNIP's scores per layer add up to very different totals: the big first layer holds most of
# the sensitivity, so a global top-kappa can empty a small layer first. SynFlow's scores are
# built so that this cannot happen: each score is the "flow" of all input-output paths through
# a weight (products of |w| along the path, on an all-ones input), and every layer carries the
# whole flow R. Its per-layer totals are all equal to R (the conservation law).

# %%
model = fresh()
snip_s = connection_sensitivity(model, x, y).s
ones = [np.ones(c.shape, bool) for _, _, c in model.named_masks()]
R, _ = synaptic_flow(model, ones, x.shape[1:])
flow = synflow_scores(model, (x, None), None, None, ones)
print(f"{'layer':12s} {'weights':>8s} {'SNIP share':>11s} {'SynFlow sum / R':>16s}")
for (name, w, _), s, f in zip(model.named_masks(), snip_s, flow):
    print(f"{name:12s} {w.size:8d} {s.sum():11.3f} {f.sum() / R:16.6f}")
    assert abs(f.sum() / R - 1) < 1e-9                   # conservation, to rounding
shares = [s.sum() for s in snip_s]
assert max(shares) > 5 * min(shares)                     # SNIP's layers: very unequal

# %% [markdown]
# GraSP scores are *signed*: theta * (H g), the first-order change of the gradient norm if a
# weight were removed (with the paper's sign flipped so that larger means keep). Inverting
# GraSP therefore negates its scores; 1/x would not reverse a ranking of mixed signs.

# %%
grasp = grasp_scores(model, (x, y))
for (name, _, _), s in zip(model.named_masks(), grasp):
    print(f"{name:12s} positive: {np.mean(s > 0):5.1%}   largest |score| {np.abs(s).max():.2e}")
    assert (s > 0).any() and (s < 0).any()

# %% [markdown]
# ## Where each method keeps its connections (98% sparsity)
# Same initialization, same batch; only the scores differ. "effective" counts only the kept
# connections that lie on an input-to-output path.

# %%
METHODS = ["snip", "grasp", "synflow", "iter-snip", "force", "magnitude", "random"]
masks = {}
print(f"{'method':10s} {'fc1':>7s} {'fc2':>7s} {'fc3':>7s} {'effective sparsity':>19s}")
for method in METHODS:
    model = fresh()
    rounds = 10 if FAST and method in ITERATIVE else None
    report = prune(model, x, y, SPARSITY, method=method, rng=0, rounds=rounds)
    assert report.kept == round((1 - SPARSITY) * report.prunable)    # exactly kappa, each
    masks[method] = model.fc1.c.data.copy()
    densities = " ".join(f"{layer.density:7.2%}" for layer in report.layers)
    print(f"{method:10s} {densities} {report.effective_sparsity:19.2%}")

# %% [markdown]
# The first layer's mask as an image (the paper's Figure 2): for every input pixel, the
# fraction of the 300 hidden units still connected to it.

# %%
fig = Figure(figsize=(2.0 * len(masks), 2.4))
axes = fig.subplots(1, len(masks))
for ax, (method, mask) in zip(axes, masks.items()):
    ax.imshow(first_layer_picture(mask), cmap="viridis", vmin=0)
    ax.set_title(method, fontsize=9)
    ax.axis("off")
fig.suptitle(f"first-layer connections kept at {SPARSITY:.0%} sparsity", fontsize=10)
fig.tight_layout()
show(fig, "lesson08_first_layer_masks.png")

# %% [markdown]
# SNIP, GraSP, iterative SNIP and FORCE saw the pruning batch: a garment's silhouette
# appears. SynFlow, magnitude and random pruning never saw an image: no silhouette, and
# SynFlow keeps the first layer evenly, having no reason to prefer one pixel to another.

# %% [markdown]
# ## The iterative methods, round by round
# Iterative SNIP and SynFlow only ever remove; FORCE re-scores *every* connection with its
# original weight on the pruned network, so connections pruned earlier can come back.

# %%
ROUNDS = 10 if FAST else 30
model = fresh()
kappa = round((1 - SPARSITY) * sum(c.size for _, _, c in model.named_masks()))


def rounds_of(method):
    """Every round of ``method``: each layer's density, and how many connections came back."""
    rows, previous = [], [np.ones(c.shape, bool) for _, _, c in model.named_masks()]

    def watch(t, k, keep):
        revived = sum(int(np.sum(now & ~before)) for now, before in zip(keep, previous))
        rows.append([layer.mean() for layer in keep] + [revived])
        previous[:] = keep

    prune_iteratively(ITERATIVE[method], model, (x, y), None, None, kappa, rounds=ROUNDS,
                      on_round=watch)
    return np.array(rows)


history = {method: rounds_of(method) for method in ("iter-snip", "force", "synflow")}
for method, rows in history.items():
    print(f"{method:9s} connections that came back over {ROUNDS} rounds: {int(rows[:, -1].sum())}")
assert history["iter-snip"][:, -1].sum() == history["synflow"][:, -1].sum() == 0
assert history["force"][:, -1].sum() > 0

fig = Figure(figsize=(11, 3))
axes = fig.subplots(1, 3, sharey=True)
for ax, (method, rows) in zip(axes, history.items()):
    for i, name in enumerate(["fc1", "fc2", "fc3"]):
        ax.semilogy(range(1, ROUNDS + 1), rows[:, i], label=name)
    ax.set_title(method, fontsize=9)
    ax.set_xlabel("round")
axes[0].set_ylabel("density of the layer")
axes[0].legend(fontsize=8)
fig.tight_layout()
show(fig, "lesson08_rounds.png")

# %% [markdown]
# ## The sanity checks
# Frankle et al. (ICLR 2021) asked whether these masks matter beyond their per-layer
# densities. For each method: its own mask; **inverted** (the lowest scores kept: for an
# iterative method at every round); **shuffled** (the same number of connections in every
# layer, at random positions: random pruning with the method's layer densities); **reinit**
# (the same mask, fresh weights). They found, on image classifiers trained to convergence,
# that shuffling and re-initializing did not hurt SNIP, GraSP or SynFlow: their masks carried
# little beyond the densities. What do you see here? (A few epochs on 4,500 images: the
# differences of a point or two are noise; `minisnip experiment pai-lenet300` runs the full
# comparison, two seeds.)

# %%
EPOCHS = 1 if FAST else 3
CHECKED = ["snip", "synflow"] if FAST else ["snip", "grasp", "synflow", "force"]
COLUMNS = ["", "-inverted", "-shuffled", "-reinit"]


def trained_error(method):
    """Prune a fresh network with ``method``, train it, return its test error as text (with a
    "cut" when the mask cut a layer off entirely: prune's RuntimeWarning, caught here)."""
    model = fresh()
    rounds = 10 if method.split("-")[0] in ("synflow", "force") else None
    # rng=1, not the initialization's seed 0: -reinit would otherwise redraw the same weights
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        prune(model, x, y, SPARSITY, method=method, rng=1, rounds=rounds)
    cut = any("cut off entirely" in str(w.message) for w in caught)
    opt = optim.SGD(list(model.parameters()), lr=0.1, momentum=0.9, weight_decay=5e-4)
    for epoch in range(EPOCHS):
        train_epoch(model, opt, data.x_train, data.y_train, batch_size=100,
                    rng=np.random.default_rng(epoch))
    return f"{evaluate(model, data.x_test, data.y_test)[1]:.2f}" + (" cut" if cut else "")


print(f"test error (%) after {EPOCHS} epochs at {SPARSITY:.0%} sparsity "
      f"('cut': the mask cut a layer off entirely)")
print(f"{'method':10s}" + "".join(f"{c or 'as chosen':>12s}" for c in COLUMNS))
for method in CHECKED:
    print(f"{method:10s}" + "".join(f"{trained_error(method + c):>12s}" for c in COLUMNS))
print(f"{'random':10s}{trained_error('random'):>12s}")

# %% [markdown]
# SynFlow and FORCE ran 10 rounds here instead of their papers' 100 and 60, to keep the
# lesson short; `prune(..., rounds=None)` uses the papers' numbers.

# %%
print("lesson 8 done")
