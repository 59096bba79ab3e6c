"""NUMBA_DISABLE_JIT=1 runs every kernel as plain Python (so a student can step through it
with pdb) and gives the same results as the compiled kernels."""
import os
import subprocess
import sys

CODE = r"""
import numpy as np
from minisnip.kernels import batchnorm, conv, matmul, pool, recurrent, reference
rng = np.random.default_rng(0)
x = rng.standard_normal((2, 2, 5, 5)); w = rng.standard_normal((3, 2, 3, 3))
out, cols = conv.conv2d_forward(x, w, 1, 1)
assert np.allclose(out, reference.conv2d(x, w, 1, 1))
g = rng.standard_normal(out.shape)
assert np.allclose(conv.conv2d_input_grad(g, w, x.shape, 1, 1), reference.conv2d_input_grad(g, w, x.shape, 1, 1))
o, a = pool.max_pool2d_forward(x, 2, 2, 2)
assert np.allclose(o, reference.max_pool2d(x, 2, 2, 2))
assert np.allclose(pool.avg_pool2d_forward(x, 2, 2, 1), reference.avg_pool2d(x, 2, 2, 1))
y = batchnorm.batch_norm_train_forward(x, np.ones(2), np.zeros(2), 1e-5)[0]
assert np.allclose(y, reference.batch_norm_train(x, np.ones(2), np.zeros(2), 1e-5)[0])
args = [rng.standard_normal(s) for s in [(3, 2, 4), (2, 5), (2, 5), (20, 4), (20, 5), (20,), (20,)]]
assert np.allclose(recurrent.lstm_forward(*args)[0], reference.lstm_forward(*args))
gargs = [args[0], args[1], args[3][:15], args[4][:15], args[5][:15], args[6][:15]]
assert np.allclose(recurrent.gru_forward(*gargs)[0], reference.gru_forward(*gargs))
print("ok")
"""


def test_every_kernel_runs_without_jit():
    env = dict(os.environ, NUMBA_DISABLE_JIT="1",
               PYTHONPATH=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    result = subprocess.run([sys.executable, "-c", CODE], env=env, capture_output=True,
                            text=True, timeout=600)
    assert result.returncode == 0 and "ok" in result.stdout, result.stderr[-3000:]
