"""Assignment 5: backpropagation through time, in the LSTM and GRU kernels."""
from ..catalog import Assignment, Task

ORACLES = "kernels/reference.py:"

ASSIGNMENT = Assignment(
    number=5, name="recurrent", title="Recurrent networks: backpropagation through time",
    introduction="""\
minisnip's LSTM and GRU run a whole sequence as one op (`minisnip/kernels/recurrent.py`): the
input projections of all steps are one matrix product, and each step is one product with
W_hh plus one call for all the gate arithmetic (NumPy's ufuncs on whole blocks in the
forward, one compiled kernel in the backward: the one you write); the backward runs the steps
in reverse. Read the module's docstring (the equations, PyTorch's gate order, where the GRU's
b_hn sits), `lstm_forward` and `gru_forward`, and lesson 06 (`lessons/06_recurrent.py`, an
LSTM step written out and differentiated by the engine).

You write one LSTM step's backward (5.1), the LSTM's backward through time (5.2) and one GRU
step's backward (5.3). The tests compare your kernels with the same equations written with
minisnip's elementary ops and differentiated by the engine (`course/testing.py`). The NumPy
oracles of these three functions are hidden in your tree (they would be the solution).
""",
    tasks=(
        Task(
            id="5.1", title="One LSTM step, backward", points=20, minutes=60,
            functions=("kernels/recurrent.py:lstm_cell_backward",),
            hidden_oracles=(ORACLES + "lstm_cell_backward",),
            statement="""\
`lstm_cell_backward(dh, dc_next, gates, c, c_prev, dpre, dc_prev)`: the forward step
computed, from the pre-activations `pre` (B, 4H) stacked i, f, g, o,

    i = s(pre_i)   f = s(pre_f)   g = tanh(pre_g)   o = s(pre_o)       (s: the sigmoid)
    c = f * c_prev + i * g        h = o * tanh(c)

and saved the activated `gates` (B, 4H) and `c`. Given dh = dL/dh (B, H) and dc_next =
dL/dc arriving from step t + 1 (B, H), write into `dpre` (B, 4H) dL/dpre for the four gate
blocks and into `dc_prev` (B, H) dL/dc_prev. The total dL/dc adds the path through h,
`dh * o * (1 - tanh(c)^2)`, to `dc_next`. Use s'(v) = s (1 - s) and tanh' = 1 - tanh^2, from
the saved activations: do not recompute them. A Numba kernel, parallel over the batch rows
(`prange`): each row is independent.""",
        ),
        Task(
            id="5.2", title="The LSTM through time", points=25, minutes=75,
            functions=("kernels/recurrent.py:lstm_backward",),
            hidden_oracles=(ORACLES + "lstm_backward",),
            depends=("5.1",),
            statement="""\
`lstm_backward(dhs, dc_last, saved, products)` returns `(dx, dh0, dc0, dw_ih, dw_hh, db_ih,
db_hh)` from dL/dhs (T, B, H) (the loss's gradient for every step's hidden state) and
`dc_last` = dL/dc_T (B, H) (a loss on the last cell state; zeros when there is none).
`saved` is what `lstm_forward` returned beside `hs`: `(x, h0, c0, w_ih, w_hh, b_ih, b_hh, hs,
cs, gates)`.

Walk the steps from T - 1 down to 0. At step t, dL/dh_t is `dhs[t]` plus what flows back from
step t + 1 through W_hh (`dpre_{t+1} @ W_hh`); dL/dc_t arrives from step t + 1 (or is
`dc_last` at the last step). Your `lstm_cell_backward` turns them into `dpre[t]` and
dL/dc_{t-1}. After the loop, the weight gradients are ONE product each over all steps:
`dW_ih = dpre^T x`, `dW_hh = dpre^T h_prev` (h_prev: h0, then h_0 .. h_{T-2}), the bias
gradients the sum of `dpre` over steps and rows (the same for b_ih and b_hh: both enter pre
the same way; return two arrays), and `dx = dpre W_ih`. Use `products.matmul(a, b)` for the
products and `products.right_operand(w_hh).left_multiply(a)` for the per-step one (it lays
W_hh out once for all steps). dh0 and dc0 are what is left flowing back from step 0.""",
        ),
        Task(
            id="5.3", title="One GRU step, backward", points=20, minutes=60,
            functions=("kernels/recurrent.py:gru_cell_backward",),
            hidden_oracles=(ORACLES + "gru_cell_backward",),
            statement="""\
`gru_cell_backward(dh, gates, hw, h_prev, dxw, dhw, dh_direct)`: the forward step computed,
from `xw = x W_ih^T + b_ih` and `hw = h_prev W_hh^T + b_hh` (both (B, 3H), stacked r, z, n),

    r = s(xw_r + hw_r)    z = s(xw_z + hw_z)    n = tanh(xw_n + r * hw_n)
    h = (1 - z) * n + z * h_prev

(PyTorch's GRU: r multiplies `hw_n`, which includes b_hn). Given dh = dL/dh (B, H), write
dL/dxw into `dxw`, dL/dhw into `dhw` (both (B, 3H)), and into `dh_direct` the part of
dL/dh_prev that flows through `z * h_prev` (the rest flows through `hw`, outside this
kernel). Note where r sits: dL/dhw_n = dL/d(n's pre-activation) * r, but dL/dxw_n has no r.
A Numba kernel, parallel over the batch rows.""",
        ),
    ),
)
