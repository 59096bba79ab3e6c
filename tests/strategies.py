"""Hypothesis strategies: shapes, broadcastable pairs, and arrays that are non-contiguous views."""
import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp


def shapes(min_dims=1, max_dims=3, max_side=5):
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=1, max_side=max_side)


@st.composite
def broadcast_pair(draw, max_dims=3, max_side=4):
    """Two shapes that broadcast together (NumPy rules), e.g. (3, 1, 4) and (2, 4)."""
    shapes_ = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=1, max_dims=max_dims,
                                                     min_side=1, max_side=max_side))
    return shapes_.input_shapes


@st.composite
def arrays(draw, shape, dtype=np.float64, low=-2.0, high=2.0, layout=None):
    """An array of ``shape`` that is C-contiguous, a transposed view, or a strided slice."""
    seed = draw(st.integers(0, 2 ** 32 - 1))
    layout = layout or draw(st.sampled_from(["contiguous", "transposed", "sliced"]))
    rng = np.random.default_rng(seed)
    shape = tuple(shape)
    if layout == "transposed" and len(shape) >= 2:
        base = rng.uniform(low, high, shape[::-1]).astype(dtype)
        return base.T
    if layout == "sliced":
        base = rng.uniform(low, high, tuple(2 * s for s in shape)).astype(dtype)
        return base[tuple(slice(None, None, 2) for _ in shape)]
    return rng.uniform(low, high, shape).astype(dtype)
