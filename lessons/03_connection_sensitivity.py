# %% [markdown]
# # Lesson 3: connection sensitivity, c, g and s (the paper's Eq. 3-6)
#
# SNIP asks: how much would the loss change if connection j were removed? Removing it
# exactly (Eq. 4) costs one forward pass per connection. SNIP instead multiplies every weight
# by an indicator c_j (Eq. 3), relaxes c to be continuous and takes g_j = dL/dc_j at c = 1
# (Eq. 5): one backward pass gives it for every connection at once. Here we compute g, check
# it against finite differences, and see how well it ranks connections against the exact
# removal Delta-L_j.

# %%
import os

import numpy as np

from minisnip import Tensor, functional as F, nn
from minisnip.nn import init
from minisnip.snip import connection_sensitivity, top_kappa

FAST = os.environ.get("MINISNIP_FAST") == "1"
rng = np.random.default_rng(0)


class TinyNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(10, 8, dtype=np.float64)
        self.fc2 = nn.Linear(8, 3, dtype=np.float64)

    def forward(self, x):
        return self.fc2(self.fc1(x).relu())


model = TinyNet()
init.initialize(model, "vs-x", rng=rng)
x = rng.standard_normal((32, 10))
y = rng.integers(0, 3, 32)
print(model)

# %% [markdown]
# ## c is a variable of the network
# `model.fc1.c` is the mask of fc1's weight: ones, the same shape as the weight. The layer
# computes `F.linear(x, c * w, b)`. Make c require grad, run one forward-backward, and
# `c.grad` is g (Eq. 5).

# %%
model.fc1.c.requires_grad_(True)
model.fc2.c.requires_grad_(True)
F.cross_entropy(model(Tensor(x)), y).backward()
g1 = model.fc1.c.grad.copy()
print("g for fc1, first row:", np.round(g1[0], 5))
print("w * dL/dw, first row: ", np.round((model.fc1.weight.data * model.fc1.weight.grad)[0], 5))
model.fc1.c.requires_grad_(False)
model.fc2.c.requires_grad_(False)
model.zero_grad()

# %% [markdown]
# At c = 1, d(c*w)/dc = w, so g = w * dL/dw: SNIP's score is the weight times its gradient.
# `connection_sensitivity` does the above for every prunable layer and normalizes (Eq. 6):
# s_j = |g_j| / sum_k |g_k|.

# %%
sens = connection_sensitivity(model, x, y)
print("layers:", sens.names)
print("sum of s over all layers:", sum(s.sum() for s in sens.s))
assert np.allclose(sens.g[0], g1)

# %% [markdown]
# ## Check 1: g against finite differences of L in c (Eq. 5)

# %%
def loss_with(masks):
    saved = [m.data.copy() for _, _, m in model.named_masks()]
    for (_, _, m), v in zip(model.named_masks(), masks):
        m.data[...] = v
    value = F.cross_entropy(model(Tensor(x)), y).item()
    for (_, _, m), v in zip(model.named_masks(), saved):
        m.data[...] = v
    return value


ones = [np.ones(m.shape) for _, _, m in model.named_masks()]
base = loss_with(ones)
worst = 0.0
for layer, g in enumerate(sens.g):
    for j in list(np.ndindex(g.shape))[: (10 if FAST else None)]:
        plus = [o.copy() for o in ones]
        minus = [o.copy() for o in ones]
        plus[layer][j] += 1e-6
        minus[layer][j] -= 1e-6
        fd = (loss_with(plus) - loss_with(minus)) / 2e-6
        worst = max(worst, abs(fd - g[j]))
print(f"largest |finite difference - g|: {worst:.2e}")
assert worst < 1e-6, "g should be dL/dc: Eq. 5"

# %% [markdown]
# ## Check 2: g against the exact removal Delta-L_j = L(1) - L(1 - e_j) (Eq. 4)
# g is a first-order (linear) estimate of Delta-L_j: they differ by the curvature term. How
# well does g *rank* the connections? That is all SNIP needs, since it keeps the top kappa.

# %%
exact, approx = [], []
for layer, g in enumerate(sens.g):
    for j in np.ndindex(g.shape):
        c = [o.copy() for o in ones]
        c[layer][j] = 0
        exact.append(base - loss_with(c))
        approx.append(g[j])
exact, approx = np.array(exact), np.array(approx)
weights = np.concatenate([w.data.ravel() for _, w, _ in model.named_masks()])
print(f"{'connection':>10s} {'w_j':>9s} {'g_j (Eq. 5)':>12s} {'Delta-L_j (Eq. 4)':>18s} {'difference':>11s}")
for k in np.argsort(-np.abs(approx))[:6]:
    print(f"{k:10d} {weights[k]:9.4f} {approx[k]:12.6f} {exact[k]:18.6f} {exact[k] - approx[k]:11.2e}")


def spearman(a, b):
    ra, rb = np.argsort(np.argsort(a)), np.argsort(np.argsort(b))
    return np.corrcoef(ra, rb)[0, 1]


rho = spearman(np.abs(approx), np.abs(exact))
print(f"Spearman rank correlation of |g| and |Delta-L|: {rho:.3f}")
assert rho > 0.5, "the first-order estimate should rank connections much like the removal"
print(f"correlation of signed g and Delta-L:            {np.corrcoef(approx, exact)[0, 1]:.3f}")
m = len(exact)
for frac in (0.5, 0.2, 0.1):
    kappa = int(frac * m)
    by_g = top_kappa([np.abs(approx)], kappa)[0]
    by_exact = top_kappa([np.abs(exact)], kappa)[0]
    print(f"keep {kappa:3d} of {m}: top-kappa sets overlap {np.sum(by_g & by_exact) / kappa:.0%}")

# %% [markdown]
# ## How fast does the first-order estimate become exact?
# Let f(v) be the loss with w_j = v. Then Delta-L_j = f(w_j) - f(0) and g_j = w_j f'(w_j), and
# Taylor's theorem gives Delta-L_j - g_j = -(w_j^2 / 2) f''(xi) for some xi between 0 and w_j.
# Shrink the weight to t * w_j: g_j shrinks like t, the error like t^2. Halving t should
# divide the error by about 4. We take a weight of fc2: the loss is smooth in it (fc2 feeds
# the softmax directly). In fc1 the ReLU makes f only piecewise smooth: each time a hidden
# unit switches on or off for some example, f'' jumps, and the ratios below would wander.

# %%
j = np.unravel_index(int(np.argmax(np.abs(sens.g[1]))), sens.g[1].shape)  # fc2's most sensitive
w = model.fc2.weight
w0 = w.data[j]
model.fc2.c.data[j] = 0
removed = F.cross_entropy(model(Tensor(x)), y).item()
model.fc2.c.data[j] = 1
previous = None
print(f"{'t':>7s} {'g_j':>11s} {'Delta-L_j':>11s} {'|error|':>10s} {'ratio':>6s}")
for t in (1.0, 0.5, 0.25, 0.125, 0.0625):
    w.data[j] = t * w0
    delta = F.cross_entropy(model(Tensor(x)), y).item() - removed
    g = connection_sensitivity(model, x, y).g[1][j]
    error = abs(delta - g)
    ratio = "" if previous is None else f"{previous / error:6.2f}"
    print(f"{t:7.4f} {g:11.3e} {delta:11.3e} {error:10.2e} {ratio}")
    last_ratio = None if previous is None else previous / error
    previous = error
w.data[j] = w0
assert 3.0 < last_ratio < 5.0, "halving t should divide the error by about 4 (Taylor)"

# %% [markdown]
# ## Several batches: sum the signed g, then take |.|
# `connection_sensitivity(model, batches=...)` sums g over the batches before taking the
# absolute value, so a connection that helps on one batch and hurts on another scores low.
# Averaging |g| per batch would keep it. The two rankings mostly agree, not entirely:

# %%
halves = [(x[:16], y[:16]), (x[16:], y[16:])]
summed = connection_sensitivity(model, batches=halves).flat()
per_batch = [connection_sensitivity(model, xb, yb) for xb, yb in halves]
mean_abs = np.mean([np.abs(np.concatenate([g.ravel() for g in p.g])) for p in per_batch], axis=0)
kappa = m // 5
a = top_kappa([summed], kappa)[0]
b = top_kappa([mean_abs], kappa)[0]
print(f"keep {kappa} of {m}: |sum of g| and mean of |g| choose {np.sum(a & b)} of the same connections")

# %% [markdown]
# The ranking is good but not perfect: where |g| and |Delta-L| disagree, the loss is curved
# in c_j (a ReLU switches, or the softmax saturates). The paper's point is that this cheap
# ranking, computed once at initialization, is enough to find a trainable sparse network.

# %%
print("lesson 3 done")
