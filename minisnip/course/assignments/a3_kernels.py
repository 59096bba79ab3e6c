"""Assignment 3: Numba kernels, tested against their NumPy oracles; speed reported, not graded."""
from ..catalog import Assignment, Task

ASSIGNMENT = Assignment(
    number=3, name="kernels", title="Kernels in Numba: a matrix product and im2col",
    introduction="""\
minisnip's speed comes from a few Numba kernels (`minisnip/kernels/`): plain functions on
NumPy arrays, compiled to machine code, each with an obvious NumPy version of the same name
and signature in `minisnip/kernels/reference.py` that the tests compare it with. Read
`kernels/matmul.py` and `kernels/conv.py` (their docstrings state what runs in parallel and
why), lesson 02 (`lessons/02_kernels.py`) and lesson 05 (`lessons/05_convolutions.py`).

You write the dot-product matrix product (3.1) and the two halves of convolution by im2col
(3.2, 3.3). The tests check the results against the oracles (correctness is graded); each
task also reports your kernel's time against NumPy's (speed is reported, not graded). These
tasks are graded with Numba compiling: a kernel that only runs as plain Python fails.
`NUMBA_DISABLE_JIT=1 python -m pytest tests/` runs your kernels as plain Python, so that
you can step through them with `pdb` first.
""",
    tasks=(
        Task(
            id="3.1", title="The dot-product matrix product", points=20, minutes=90, jit=True,
            functions=("kernels/matmul.py:dot_tiles",),
            statement="""\
`dot_tiles(a, bt, block)` returns C = A @ B from A (M, K) and **B transposed**, `bt` (N, K),
both C-contiguous: every C[i, j] is the dot product of row i of A and row j of `bt`, so both
operands are read along contiguous rows. Return a new (M, N) array of A's dtype.

A correct kernel gets the points; a fast one is the goal. The way the library's is fast:
compute C in 4 x 4 tiles, each tile's 16 sums kept in 16 *scalar* variables (LLVM keeps
scalars in registers, never an array) and updated in one loop over k (8 loads per 16
multiply-adds); run the tiles in parallel (`prange` over the tiles); `fastmath={"reassoc"}`
lets LLVM vectorize the k loop. `block` says how many rows of `bt` a group of tiles shares
(so that they stay in cache); a kernel that ignores it is still correct. Tiles at the edge
(M or N not a multiple of 4) must not read or write past the arrays.

Each entry must be computed by one thread in a fixed order, so that the result does not
depend on the thread count (the tests check this).""",
        ),
        Task(
            id="3.2", title="im2col", points=15, minutes=60, jit=True,
            functions=("kernels/conv.py:im2col",),
            statement="""\
`im2col(x, kh, kw, stride, padding)` unfolds x (N, C, H, W) into `cols` (C*KH*KW, N*OH*OW):
row `(c*KH + a)*KW + b` holds, for every output position `(n, i, j)` (column
`(n*OH + i)*OW + j`), the input value under tap (a, b) of channel c:
`x[n, c, i*stride - padding + a, j*stride - padding + b]`, or 0 where that falls in the
padding. OH = (H + 2 padding - KH) // stride + 1, the same for OW. Then a convolution is one
matrix product, `cols^T @ W^T`.

Parallelize over the rows of `cols` (`prange`): each row is written by one thread, so the
kernel is deterministic and race-free.""",
        ),
        Task(
            id="3.3", title="col2im, the adjoint", points=15, minutes=60, jit=True,
            functions=("kernels/conv.py:col2im",),
            statement="""\
`col2im(cols, n, c, h, w, kh, kw, stride, padding)` is the adjoint of im2col: it returns x
(N, C, H, W) where every entry of `cols` is **added** back to the input position im2col read
it from (entries read from the padding are dropped). Overlapping windows (stride < kernel)
make several entries land on one input position: they sum. This is the gradient of a
convolution with respect to its input (after the product `W^T @ dout`).

Parallelize so that no two threads add into the same entry: over input channels, say (a
channel's rows of `cols` only touch that channel).""",
        ),
    ),
)
