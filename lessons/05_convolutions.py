# %% [markdown]
# # Lesson 5: convolution as loops, as im2col + matmul, its backward, and what SNIP keeps
#
# A convolution slides a small filter over the image. Written as loops it is seven nested
# loops (image, filter, output row, output column, and the sum over channel, filter row,
# filter column); below, the last three become one NumPy product inside four Python loops.
# Unfolded with im2col it becomes ONE matrix product, which is how minisnip (and most
# frameworks) compute it. Its backward is two more products and the adjoint of im2col.

# %%
import os
import time

import numpy as np

from minisnip import functional as F
from minisnip.kernels import conv
from minisnip.models import build_model
from minisnip.nn import init

FAST = os.environ.get("MINISNIP_FAST") == "1"
rng = np.random.default_rng(0)
x = rng.standard_normal((2, 3, 8, 8))      # 2 images, 3 channels, 8x8
w = rng.standard_normal((4, 3, 3, 3))      # 4 filters of 3x3 over 3 channels

# %% [markdown]
# ## 1. The definition, as loops
# out[n, o, i, j] = sum over c, a, b of x[n, c, i + a, j + b] * w[o, c, a, b]

# %%
def conv_loops(x, w):
    n, c, h, wd = x.shape
    oc, _, kh, kw = w.shape
    out = np.zeros((n, oc, h - kh + 1, wd - kw + 1))
    for b in range(n):
        for o in range(oc):
            for i in range(h - kh + 1):
                for j in range(wd - kw + 1):
                    out[b, o, i, j] = np.sum(x[b, :, i:i + kh, j:j + kw] * w[o])
    return out


t0 = time.perf_counter()
loops = conv_loops(x, w)
print(f"loops: output {loops.shape} in {1e3 * (time.perf_counter() - t0):.1f} ms")

# %% [markdown]
# ## 2. im2col: every receptive field becomes a column
# `cols` has one row per (channel, filter row, filter column) and one column per output
# position. The convolution is then `W.reshape(OC, -1) @ cols`: a plain matrix product,
# which runs in the blocked, vectorized matmul kernel of lesson 2.

# %%
cols = conv.im2col(x, 3, 3, 1, 0)
print("cols:", cols.shape, "= (C*KH*KW, N*OH*OW)")
as_matmul = (w.reshape(4, -1) @ cols).reshape(4, 2, 6, 6).transpose(1, 0, 2, 3)
print("max |im2col+matmul - loops|:", np.abs(as_matmul - loops).max())
assert np.allclose(as_matmul, loops)
out, _ = conv.conv2d_forward(x, w)
print("max |minisnip conv2d - loops|:", np.abs(out - loops).max())
assert np.allclose(out, loops)

# %% [markdown]
# ## 3. The backward
# With G = dL/dout laid out like the product's output (OC, N*OH*OW):
# * dL/dW = G @ cols^T: each filter tap collects input x output-gradient over all positions;
# * dL/dcols = W^T @ G, and col2im adds each column back where its patch came from
#   (a pixel in several receptive fields receives the sum).
# We check both against finite differences through the engine.

# %%
from minisnip.gradcheck import gradcheck  # noqa: E402

print("gradcheck conv2d (x, w, b):",
      gradcheck(lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1),
                [x[:1, :2, :5, :5].copy(), w[:2, :2].copy(), rng.standard_normal(2)]))

# %% [markdown]
# ## 4. Which filter taps SNIP keeps
# Prune LeNet-5-Caffe at 95% on one batch of the bundled Fashion-MNIST subset and look at
# the density of each layer and, for the first convolution, of each of the 5x5 taps.

# %%
from minisnip.data import prepare  # noqa: E402
from minisnip.snip import prune  # noqa: E402

data = prepare("fashion-mini", layout="image")
model = build_model("lenet5")
init.initialize(model, "vs-x", rng=0)
report = prune(model, data.x_train[:100], data.y_train[:100], sparsity=0.95)
print(report.table())
taps = model.conv1.c.data.mean(axis=(0, 1))
print("conv1: fraction of the 20 filters that keep each 5x5 tap")
print(np.array2string(taps, precision=2))

# %% [markdown]
# SNIP keeps the first convolution almost whole (it has 500 weights, each seeing every pixel)
# and takes most of its cuts from fc3 (400,000 weights): sensitivity is per connection, so
# layers whose connections each matter more keep more of them.

# %%
print("lesson 5 done")
