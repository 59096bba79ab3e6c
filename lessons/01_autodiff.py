# %% [markdown]
# # Lesson 1: reverse-mode automatic differentiation, by hand and by the engine
#
# We build a tiny two-layer network on three points, compute its loss, and then get the
# gradient three ways: (1) by hand, applying the chain rule backwards one node at a time,
# (2) with minisnip's `backward()`, (3) with finite differences. All three must agree.
#
# Run as a script (`python lessons/01_autodiff.py`) or open as a notebook (the `# %%` cells).

# %%
import numpy as np

from minisnip import Tensor, functional as F

rng = np.random.default_rng(0)
x = rng.standard_normal((3, 2))          # 3 points, 2 features
y = np.array([0, 1, 1])                  # their classes
W1 = rng.standard_normal((4, 2)) * 0.5   # layer 1: 2 -> 4, weight (out, in) as in PyTorch
W2 = rng.standard_normal((2, 4)) * 0.5   # layer 2: 4 -> 2

# %% [markdown]
# ## The forward pass, one node at a time (NumPy)
# Every intermediate is kept: the backward pass needs them.

# %%
z1 = x @ W1.T                     # (3, 4) pre-activations
h1 = np.tanh(z1)                  # (3, 4)
z2 = h1 @ W2.T                    # (3, 2) logits
shifted = z2 - z2.max(axis=1, keepdims=True)
logp = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
loss = -logp[np.arange(3), y].mean()
print(f"loss by hand:       {loss:.10f}")

# %% [markdown]
# ## The backward pass by hand
# Walk the graph in reverse. Each step multiplies the incoming gradient by the local
# derivative of one node: that is all reverse mode is.

# %%
d_z2 = np.exp(logp)                         # dL/dz2 = (softmax - onehot) / N
d_z2[np.arange(3), y] -= 1
d_z2 /= 3
d_W2 = d_z2.T @ h1                          # z2 = h1 W2^T
d_h1 = d_z2 @ W2
d_z1 = d_h1 * (1 - h1 ** 2)                 # tanh' = 1 - tanh^2
d_W1 = d_z1.T @ x
print("dL/dW1 by hand:\n", np.round(d_W1, 6))

# %% [markdown]
# ## The same with the engine
# `Tensor` records each op; `backward()` walks the recorded graph in reverse topological
# order, exactly as we just did.

# %%
w1 = Tensor(W1, requires_grad=True)
w2 = Tensor(W2, requires_grad=True)
out = F.cross_entropy(F.linear(F.linear(Tensor(x), w1).tanh(), w2), y)
out.backward()
print(f"loss by the engine: {out.item():.10f}")
print("max |engine - hand| for dL/dW1:", np.abs(w1.grad - d_W1).max())
print("max |engine - hand| for dL/dW2:", np.abs(w2.grad - d_W2).max())
assert np.allclose(w1.grad, d_W1) and np.allclose(w2.grad, d_W2)

# %% [markdown]
# ## And with finite differences
# (L(w + eps) - L(w - eps)) / (2 eps) for every entry: slow (two forward passes per entry)
# but independent of any derivative we wrote. `minisnip.gradcheck` does this for every op.

# %%
def loss_at(W1_):
    return F.cross_entropy(F.linear(F.linear(Tensor(x), Tensor(W1_)).tanh(), Tensor(W2)), y).item()


eps = 1e-6
numeric = np.zeros_like(W1)
for idx in np.ndindex(W1.shape):
    plus, minus = W1.copy(), W1.copy()
    plus[idx] += eps
    minus[idx] -= eps
    numeric[idx] = (loss_at(plus) - loss_at(minus)) / (2 * eps)
print("max |engine - finite differences|:", np.abs(w1.grad - numeric).max())
assert np.allclose(w1.grad, numeric, atol=1e-8)

# %% [markdown]
# ## A tensor used twice
# `a * a + a` uses `a` three times; its gradient is the sum over all uses: 2a + 1.

# %%
a = Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
(a * a + a).sum().backward()
print("d(a*a + a)/da =", a.grad, "(expected 2a + 1 =", 2 * a.data + 1, ")")
assert np.allclose(a.grad, 2 * a.data + 1)

# %% [markdown]
# Try it: set `MINISNIP_DEBUG=1` and rerun this lesson to see every op, its shapes and its
# time, forward and backward.

# %%
print("lesson 1 done")
