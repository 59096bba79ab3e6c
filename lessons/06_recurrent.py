# %% [markdown]
# # Lesson 6: an LSTM step written out, backpropagation through time, and SNIP's gates
#
# The paper says SNIP needs no change for recurrent networks: the mask c multiplies W_ih and
# W_hh like any other weight, and since the same c is used at every time step, g = dL/dc
# sums a connection's effect over the whole sequence.

# %%
import os

import numpy as np

from minisnip import Tensor, functional as F, nn
from minisnip.kernels import recurrent
from minisnip.models import build_model
from minisnip.nn import init
from minisnip.report import gate_densities
from minisnip.snip import prune

FAST = os.environ.get("MINISNIP_FAST") == "1"
rng = np.random.default_rng(0)
T, B, D, H = 5, 2, 3, 4

# %% [markdown]
# ## One LSTM step, by hand (PyTorch's gate order i, f, g, o)

# %%
def sigmoid(v):
    return 1 / (1 + np.exp(-v))


x = rng.standard_normal((T, B, D))
h0, c0 = np.zeros((B, H)), np.zeros((B, H))
w_ih, w_hh = rng.standard_normal((4 * H, D)) * 0.5, rng.standard_normal((4 * H, H)) * 0.5
b_ih, b_hh = np.zeros(4 * H), np.zeros(4 * H)

pre = x[0] @ w_ih.T + b_ih + h0 @ w_hh.T + b_hh          # (B, 4H): all four gates at once
i, f, g, o = np.split(pre, 4, axis=1)
i, f, g, o = sigmoid(i), sigmoid(f), np.tanh(g), sigmoid(o)
c1 = f * c0 + i * g                                        # forget some, write some
h1 = o * np.tanh(c1)                                       # expose some
hs, _ = recurrent.lstm_forward(x, h0, c0, w_ih, w_hh, b_ih, b_hh)
print("max |hand-written step - lstm_forward|:", np.abs(h1 - hs[0]).max())
assert np.allclose(h1, hs[0])

# %% [markdown]
# ## Backpropagation through time
# The kernel keeps every step's gates and cell state, then walks back from t = T-1 to 0:
# dL/dh_t = (gradient from the output at t) + (gradient from step t+1 through W_hh), and
# dL/dc_t = (gradient from step t+1) + (at t = T-1, the gradient of a loss on the last cell
# state itself). The weight gradients are sums over steps, done as one product at the end.
# `F.lstm` returns both outputs, the hidden states and the last cell state; check them
# against finite differences:

# %%
from minisnip import ops  # noqa: E402
from minisnip.gradcheck import gradcheck  # noqa: E402


def states_and_last_cell(*inputs):
    hs, c_n = F.lstm(*inputs)                      # (T, B, H) and (B, H)
    return ops.cat([hs.reshape(-1), c_n.reshape(-1)])


print("gradcheck LSTM (x, h0, c0, W_ih, W_hh, b_ih, b_hh):",
      gradcheck(states_and_last_cell, [x, rng.standard_normal((B, H)), rng.standard_normal((B, H)),
                                       w_ih, w_hh, rng.standard_normal(4 * H), rng.standard_normal(4 * H)]))

# %% [markdown]
# ## The layer, shaped like PyTorch's
# `nn.LSTM(D, H)` reads (T, B, D) (or (B, T, D) with `batch_first=True`, as the paper's models
# do) and returns `(output, (h_n, c_n))`, the states (num_layers = 1, B, H): feed them back as
# the next call's `hx` to continue the sequence. Two halves give the whole:

# %%
layer = nn.LSTM(D, H)
layer.weight_ih_l0.data[:], layer.weight_hh_l0.data[:] = w_ih, w_hh
whole, _ = layer(Tensor(x))
first, state = layer(Tensor(x[:2]))
second, (h_n, c_n) = layer(Tensor(x[2:]), state)
print("h_n", h_n.shape, "c_n", c_n.shape, "| max |halves - whole|:",
      np.abs(second.data - whole.data[2:]).max())
assert h_n.shape == c_n.shape == (1, B, H) and np.allclose(second.data, whole.data[2:])

# %% [markdown]
# ## Where SNIP keeps its connections in the gates
# Prune LSTM-s (and GRU-s) at 95% on one batch of row-by-row Fashion-MNIST: the report gives
# each gate's density in the input-to-hidden and hidden-to-hidden matrices.

# %%
from minisnip.data import prepare  # noqa: E402

data = prepare("fashion-mini", layout="sequence")
for name in ("lstm-s", "gru-s"):
    model = build_model(name)
    init.initialize(model, "vs-x", rng=0)
    report = prune(model, data.x_train[:100], data.y_train[:100], sparsity=0.95)
    print(f"\n{name}:")
    for gate, density in gate_densities(model.rnn).items():
        print(f"  {gate:5s} {100 * density:6.2f}% kept")

# %% [markdown]
# What we see: SNIP keeps the candidate (the LSTM's g, the GRU's n) far more than the gates.
# A plausible reason, not a claim of the paper: at initialization the gates sit near 0.5 and
# a small change to one moves the output through a product with the (small) cell state,
# while the candidate writes the input straight into the state. Whether the sparse network
# can still learn to gate is what `minisnip experiment rnn-fashion` measures.

# %%
print("lesson 6 done")
