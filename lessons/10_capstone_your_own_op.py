# %% [markdown]
# # Lesson 10 (capstone): write your own op, check it, use it in a pruned network
#
# Everything in minisnip is built from `Function`s: a `forward` on NumPy arrays and a
# `backward` beside it. In this lesson we add one that the library does not have, the SiLU
# activation silu(x) = x * sigmoid(x) (also called swish), and follow it all the way: its
# derivative, a finite-difference check (which catches a planted mistake), a layer, a network
# that SNIP prunes, and training. Set MINISNIP_FAST=1 for a quick run.

# %%
import os

import numpy as np

from minisnip import Tensor, functional as F, nn, optim
from minisnip.autograd import Function
from minisnip.data import batches, prepare
from minisnip.gradcheck import GradcheckError, check_op
from minisnip.nn import init
from minisnip.snip import connection_sensitivity, prune
from minisnip.train import evaluate

FAST = os.environ.get("MINISNIP_FAST") == "1"

# %% [markdown]
# ## 1. The op: forward and backward side by side
# With s = sigmoid(x): silu(x) = x s, and d silu / dx = s + x s (1 - s) = s (1 + x (1 - s)).
# The forward saves what the backward needs (x and s); the backward receives dL/d(out) and
# returns dL/dx, one gradient per input of `forward`. Note the dtype: computing `1.0 - s` on
# a float32 array stays float32, as the engine requires.

# %%
class SiLU(Function):
    @staticmethod
    def forward(ctx, x):
        s = 1.0 / (1.0 + np.exp(-x))
        ctx.save_for_backward(x, s)
        return x * s

    @staticmethod
    def backward(ctx, grad):
        x, s = ctx.saved
        return (grad * s * (1.0 + x * (1.0 - s)),)


def silu(x):
    return SiLU.apply(x)


x = Tensor(np.array([-2.0, -0.5, 0.0, 1.0, 3.0]), requires_grad=True)
silu(x).sum().backward()
print("silu(x):   ", np.round(silu(x).data, 4))
print("d silu/dx: ", np.round(x.grad, 4))

# %% [markdown]
# ## 2. Check it against finite differences
# `check_op` draws float64 inputs and compares the backward with central differences. First
# a version with a classic mistake (forgetting the product rule: only s), which the check
# must catch; then ours.

# %%
class WrongSiLU(SiLU):
    @staticmethod
    def backward(ctx, grad):
        x, s = ctx.saved
        return (grad * s,)          # the mistake: d(x s)/dx is not s


try:
    check_op(lambda a: WrongSiLU.apply(a), (4, 3))
    caught = False
except GradcheckError as error:
    caught = True
    print("the check caught the mistake:\n ", str(error)[:160], "...")
assert caught, "a wrong backward must not pass the gradient check"
print("the correct backward passes:", check_op(lambda a: silu(a), (4, 3)))
assert check_op(lambda a: silu(a) * a, (5,), seed=1)      # inside a larger expression too

# %% [markdown]
# ## 3. A layer and a network
# A Module with no parameters is a forward: `nn.ReLU` is one line, so is ours. Then
# LeNet-300-100 with SiLU in place of ReLU; its Linear layers carry SNIP's masks c.

# %%
class SiLULayer(nn.Module):
    def forward(self, x):
        return silu(x)


def lenet300(activation):
    return nn.Sequential(nn.Linear(784, 300), activation(), nn.Linear(300, 100), activation(),
                         nn.Linear(100, 10))


data = prepare("fashion-mini", layout="flat")
n_train = 1000 if FAST else len(data.x_train)
x_train, y_train = data.x_train[:n_train], data.y_train[:n_train]

# %% [markdown]
# ## 4. SNIP on it: g is still dL/dc
# Our op sits between two masked layers, so g = dL/dc flows through its backward. One check
# that it is right: g of one connection against a finite difference of the loss in c_j.

# %%
model = lenet300(SiLULayer)
init.initialize(model, "vs-x", rng=0)
xb, yb = x_train[:100], y_train[:100]
sens = connection_sensitivity(model, xb, yb)
c = model[2].c                      # the second Linear's mask
j = np.unravel_index(int(np.argmax(np.abs(sens.g[1]))), c.shape)


def loss_with_c(value):
    old = c.data[j]
    c.data[j] = value
    with_value = F.cross_entropy(model(Tensor(xb.astype(np.float64))), yb).item()
    c.data[j] = old
    return with_value


numeric = (loss_with_c(1 + 1e-3) - loss_with_c(1 - 1e-3)) / 2e-3
print(f"g of the most sensitive connection of layer 2: {sens.g[1][j]:.6f}, finite difference "
      f"{numeric:.6f}")
assert abs(numeric - sens.g[1][j]) < 1e-3 * max(1.0, abs(numeric))

# %% [markdown]
# ## 5. Prune once, train, compare with ReLU
# Algorithm 1 as in lesson 4: 95% of the connections removed on one batch at
# initialization, then SGD with momentum; the optimizer keeps the pruned weights at 0.

# %%
def prune_and_train(activation, epochs=1 if FAST else 4, seed=0):
    model = lenet300(activation)
    init.initialize(model, "vs-x", rng=seed)
    report = prune(model, xb, yb, sparsity=0.95)
    opt = optim.SGD(list(model.parameters()), lr=0.1, momentum=0.9, weight_decay=5e-4)
    rng = np.random.default_rng(seed)
    for _ in range(epochs):
        model.train()
        for xs, ys in batches(x_train, y_train, 100, rng=rng):
            loss = F.cross_entropy(model(Tensor(xs)), ys)
            opt.zero_grad()
            loss.backward()
            opt.step()
    _, error = evaluate(model, data.x_test, data.y_test)
    still_zero = all(np.all(w.data[c.data == 0] == 0) for _, w, c in model.named_masks())
    return error, report, still_zero


for name, activation in (("ReLU", nn.ReLU), ("SiLU (ours)", SiLULayer)):
    error, report, still_zero = prune_and_train(activation)
    print(f"{name:12s} kept {report.kept:6,d} of {report.prunable:,d} connections: test error "
          f"{error:5.2f}%   pruned weights still 0: {still_zero}")
    assert still_zero and error < 90.0

# %% [markdown]
# ## Your turn
# * Write `Softplus` (log(1 + e^x), with a numerically stable forward for large |x|) the same
#   way, check it, and train with it.
# * Move your op into the library: a Function in `minisnip/ops/elementwise.py` with its
#   argument checks beside it, a gradient-check case in `tests/cases/basic.py` (the registry
#   fails for an op without one: try it), and `F.silu` in `minisnip/functional.py`.
# * Which activation makes SNIP's masks change most? Compare `sens.s` layer by layer.

# %%
print("lesson 10 done")
