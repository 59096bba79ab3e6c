# %% [markdown]
# # Lesson 7: what sparsity buys
#
# SNIP removes 95-99% of the connections before training. On paper the pruned network costs
# 20-100 times fewer multiply-adds. Does it *train* that much faster? Only if the kernels
# compute with the kept connections alone, and even then the answer is measured, not read
# off the FLOP count. Here we time one layer and a whole training step, dense and sparse,
# against the density, find the break-even, and see why the FLOPs do not predict the time.
# Set MINISNIP_FAST=1 for a quick run.
#
# **Reading the numbers**: as in lesson 2, timings depend on the machine and its load; the
# load is printed below. Compare shapes of curves, not single numbers.

# %%
import os
import time

import numpy as np
from matplotlib.figure import Figure

from minisnip import Tensor, functional as F, nn, optim
from minisnip.masks import apply
from minisnip.models import build_model
from minisnip.plots import show

FAST = os.environ.get("MINISNIP_FAST") == "1"
REPEATS = 5 if FAST else 30
print(f"load average over the last minute: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")


def median_time(fn, repeats=REPEATS):
    """The median of ``repeats`` timed calls after two warm-up calls (the first compiles)."""
    fn(), fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


# %% [markdown]
# ## 1. One layer, forward and backward
# LeNet-300-100's first layer, 784 inputs to 300 units, on a batch of 100 images: the largest
# product of the network. We keep a random fraction of its connections (the density) and
# time a forward and a backward pass, first the dense way (`c * w`, then a dense product:
# the same work at every density), then with `layer.use_sparse_kernel()` (the kept
# connections in compressed rows and columns, `kernels/sparse.py`).

# %%
rng = np.random.default_rng(0)
x = Tensor(rng.standard_normal((100, 784)).astype(np.float32))
DENSITIES = (0.5, 0.1, 0.02, 0.005) if FAST else (1.0, 0.5, 0.2, 0.1, 0.05, 0.02, 0.01, 0.005)


def layer_step(layer):
    def step():
        layer.zero_grad()
        layer(x).sum().backward()
    return step


rows = []
for density in DENSITIES:
    dense, sparse = nn.Linear(784, 300), nn.Linear(784, 300)
    keep = rng.random((300, 784)) < density
    for layer in (dense, sparse):
        layer.weight.data[...] = rng.standard_normal((300, 784)).astype(np.float32)
        apply(layer, [keep])
    sparse.weight.data[...] = dense.weight.data
    sparse.use_sparse_kernel()
    assert np.allclose(dense(x).data, sparse(x).data, atol=1e-4)      # the same function
    rows.append((density, median_time(layer_step(dense)), median_time(layer_step(sparse))))

print(f"{'density':>8s} {'dense ms':>9s} {'sparse ms':>10s} {'time ratio':>11s} {'FLOP ratio':>11s}")
for density, t_dense, t_sparse in rows:
    print(f"{density:8.1%} {1e3 * t_dense:9.3f} {1e3 * t_sparse:10.3f} "
          f"{t_dense / t_sparse:10.1f}x {1 / density:10.0f}x")
faster = [d for d, t_dense, t_sparse in rows if t_sparse < t_dense]
print("break-even: the sparse kernel is faster from", f"{max(faster):.1%} down" if faster
      else "no density measured here")

# %%
fig = Figure(figsize=(6, 4), layout="constrained")
ax = fig.subplots()
d = np.array([r[0] for r in rows])
ax.loglog(d, [1e3 * r[1] for r in rows], "o-", label="dense (c * w)")
ax.loglog(d, [1e3 * r[2] for r in rows], "s-", label="sparse kernel")
ax.loglog(d, 1e3 * rows[0][1] * d / d[0], ":", color="gray",
          label="dense time x density (the FLOP count)")
ax.invert_xaxis()
ax.set_xlabel("density (fraction of connections kept)")
ax.set_ylabel("forward + backward, ms")
ax.set_title("784 -> 300 at batch 100")
ax.legend(fontsize=8)
show(fig, "lesson07_time_against_density.png")

# %% [markdown]
# ## 2. Why the FLOP count does not predict the time
# * **The dense product is as fast as the hardware allows.** Its inner loops read memory in
#   order, keep their sums in registers and use SIMD (8 or 16 multiply-adds per instruction),
#   lesson 2's kernels. A multiply-add there costs a fraction of a nanosecond.
# * **A sparse multiply-add costs more.** Each kept connection is an index to read, and an
#   input it points to that lies anywhere in memory; loops are short and irregular, so they
#   vectorize less. A kept connection may cost several times a dense one, so the sparse
#   kernel only wins once the density is well below the ratio of those costs.
# * **What is left does not shrink.** Both paths pay for what does not depend on the mask:
#   the bias, the activations, the loss, Python's overhead per op, starting threads. At 99%
#   sparsity the products are small and these dominate (Amdahl's law). minisnip removes what
#   it can: on the sparse kernel the optimizer updates the kept weights only, and small
#   kernels run on one thread instead of waking the others.
# * **Layouts matter.** The sparse kernel reads the batch as its contiguous inner loop
#   (activations transposed to (features, batch)): a batch of 1 leaves nothing to vectorize.
#
# So a network that is 100 times smaller trains some times faster, not 100: the measure is
# the whole step.

# %% [markdown]
# ## 3. The whole training step of LeNet-300-100
# Pruned by SNIP (its masks, not random ones: SNIP keeps very different densities per
# layer), trained with SGD. The same step after `model.use_sparse_kernels("auto")`, which puts
# each layer on its sparse kernel where its density is below the measured break-even (the
# call returns the choice per layer; `minisnip train` makes it after pruning,
# `--sparse-kernels auto|on|off`).

# %%
from minisnip.snip import prune  # noqa: E402

xb = rng.standard_normal((100, 784)).astype(np.float32)
yb = rng.integers(0, 10, 100)


def lenet_step(sparsity, sparse):
    model = build_model("lenet300")
    nn.init.initialize(model, "vs-x", rng=0)
    if sparsity:
        prune(model, xb, yb, sparsity=sparsity)
    chosen = model.use_sparse_kernels("auto") if sparse else None
    opt = optim.SGD(list(model.parameters()), lr=0.01, momentum=0.9, weight_decay=5e-4)
    xt = Tensor(xb)

    def step():
        loss = F.cross_entropy(model(xt), yb)
        opt.zero_grad()
        loss.backward()
        opt.step()
    step.chosen = chosen
    return step


dense_step = median_time(lenet_step(0, False))
print(f"dense network:            {1e3 * dense_step:7.2f} ms per step")
for sparsity in ((0.95, 0.99) if FAST else (0.9, 0.95, 0.98, 0.99)):
    t_masked = median_time(lenet_step(sparsity, False))
    sparse_step = lenet_step(sparsity, True)
    t_sparse = median_time(sparse_step)
    on = [name for name, chosen in sparse_step.chosen.items() if chosen]
    print(f"SNIP at {sparsity:.0%}: dense kernels {1e3 * t_masked:7.2f} ms, sparse kernels "
          f"{1e3 * t_sparse:7.2f} ms ({t_masked / t_sparse:4.1f}x; the FLOPs say "
          f"{1 / (1 - sparsity):4.0f}x); sparse: {', '.join(on) or 'none'}")

# %% [markdown]
# **Try it**: `benchmarks/bench_sparse.py` measures the same against PyTorch's masked dense
# step, over several runs; `NUMBA_NUM_THREADS=1` shows how much of the dense step was
# parallel. Which layer of LeNet-300-100 stays dense at 95%, and why? (Look at SNIP's per-layer
# densities in lesson 4's report, and at the break-even of section 1.)
#
# **Convolutions too.** A convolution is a matrix product over patches (lesson 5: im2col), so
# a pruned `Conv2d` runs on the same sparse kernels, the patch positions playing the batch
# (`kernels/sparse.py`, its last section). Only the products shrink: im2col, col2im and the
# pooling cost what they cost. Change `build_model("lenet300")` above to `"lenet5"` (and the
# batch to `(100, 1, 28, 28)`) and see which layers `use_sparse_kernels("auto")` moves, and
# what the step gains at 99%.

# %%
print("lesson 7 done")
