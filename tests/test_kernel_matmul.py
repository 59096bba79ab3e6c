"""The Numba matmul kernel against its NumPy oracle (DESIGN principle 3)."""
import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, strategies as st

from minisnip.kernels import matmul as kernel
from minisnip.kernels import reference

from .strategies import arrays

dims = st.integers(0, 9) | st.sampled_from([1, 13, 63, 64, 65, 131])


@given(m=dims, k=dims, n=dims, dtype=st.sampled_from([np.float32, np.float64]),
       data=st.data())
def test_matches_oracle(m, k, n, dtype, data):
    a = data.draw(arrays((m, k), dtype=dtype))
    b = data.draw(arrays((k, n), dtype=dtype))
    got = kernel.matmul(a, b)
    want = reference.matmul(a, b)
    assert got.shape == (m, n) and got.dtype == dtype and got.flags.c_contiguous
    tol = 1e-12 if dtype == np.float64 else 1e-5
    np.testing.assert_allclose(got, want, rtol=tol * 10, atol=tol * max(k, 1) * 4)


@pytest.mark.parametrize("shape", [((100, 784), (784, 300)), ((300, 100), (100, 784)),
                                   ((100, 300), (300, 784)), ((100, 100), (100, 10))])
def test_lenet_shapes_with_transposed_operands(shape, rng):
    (m, k), (_, n) = shape
    a = rng.standard_normal((k, m)).astype(np.float32).T   # x.T as in the weight gradient
    b = rng.standard_normal((n, k)).astype(np.float32).T   # W.T as in the forward
    np.testing.assert_allclose(kernel.matmul(a, b), reference.matmul(a, b), rtol=1e-4, atol=1e-3)


def _at_thread_counts(fn):
    """fn() computed with Numba on every thread and on one; the count is restored after."""
    import numba
    before = numba.get_num_threads()
    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("one thread only: nothing to compare")
    try:
        numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
        many = fn()
        numba.set_num_threads(1)
        return many, fn()
    finally:
        numba.set_num_threads(before)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_long_k_small_output_path(rng, dtype):
    """A small output with a long k (a convolution's weight gradient) takes the chunked
    dot-product path; it must agree with the oracle and not depend on the thread count."""
    a = rng.standard_normal((5, 40_000)).astype(dtype)
    bt = rng.standard_normal((3, 40_000)).astype(dtype)
    got, one_thread = _at_thread_counts(lambda: kernel.matmul(a, bt.T))
    tol = 1e-10 if dtype == np.float64 else 2e-3
    np.testing.assert_allclose(got, reference.matmul(a, bt.T), rtol=tol, atol=tol * 200)
    np.testing.assert_array_equal(got, kernel.long_k(a, bt))
    np.testing.assert_array_equal(got, one_thread)


long_k_dims = st.integers(kernel.DOT_MIN_K, kernel.DOT_MIN_K + 300)


@given(m=st.integers(1, 11), k=long_k_dims, n=st.integers(1, 70),
       dtype=st.sampled_from([np.float32, np.float64]), data=st.data())
def test_dot_tile_path_matches_oracle(m, k, n, dtype, data):
    """k >= DOT_MIN_K takes the dot-product tiles; m and n need not be multiples of 4, and
    transposed or sliced operands are made contiguous first."""
    a = data.draw(arrays((m, k), dtype=dtype))
    b = data.draw(arrays((k, n), dtype=dtype))
    got = kernel.matmul(a, b)
    assert got.shape == (m, n) and got.dtype == dtype and got.flags.c_contiguous
    tol = 1e-12 if dtype == np.float64 else 1e-5
    np.testing.assert_allclose(got, reference.matmul(a, b), rtol=tol * 10, atol=tol * k * 4)


@pytest.mark.parametrize("block", [4, 8, 64])
def test_dot_tiles_blocks_and_threads_do_not_change_the_result(rng, block):
    import numba
    a = rng.standard_normal((13, 300)).astype(np.float32)
    bt = rng.standard_normal((37, 300)).astype(np.float32)
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = kernel.dot_tiles(a, bt, block)
        numba.set_num_threads(before)
        assert np.array_equal(one, kernel.dot_tiles(a, bt, 4 if block == 64 else 64))
    finally:
        numba.set_num_threads(before)
    np.testing.assert_allclose(one, reference.matmul(a, bt.T), rtol=1e-4, atol=1e-4)


@given(rows=st.integers(1, 80), cols=st.integers(1, 80))
def test_parallel_transpose_copy(rows, cols):
    x = np.arange(rows * cols, dtype=np.float32).reshape(rows, cols)
    out = kernel.transposed(x)
    assert out.flags.c_contiguous and np.array_equal(out, x.T)


def test_narrow_output_is_computed_transposed_and_agrees(rng):
    a = rng.standard_normal((100, 100)).astype(np.float32)
    b = rng.standard_normal((10, 100)).astype(np.float32).T
    np.testing.assert_allclose(kernel.matmul(a, b), reference.matmul(a, b), rtol=1e-4, atol=1e-4)
    assert kernel.matmul(a, b).flags.c_contiguous


@pytest.mark.parametrize("shape", [((37, 200), (200, 71)), ((37, 60), (60, 71)),
                                   ((100, 20), (20, 10))], ids=["dot_tiles", "tiles", "narrow"])
def test_deterministic_and_independent_of_the_thread_count(rng, shape):
    a = rng.standard_normal(shape[0]).astype(np.float32)
    b = rng.standard_normal(shape[1]).astype(np.float32)
    many, one = _at_thread_counts(lambda: kernel.matmul(a, b))
    assert np.array_equal(many, kernel.matmul(a, b)) and np.array_equal(many, one)


def test_mixed_dtypes_compute_in_the_wider(rng):
    a = rng.standard_normal((3, 4)).astype(np.float32)
    b = rng.standard_normal((4, 2))
    assert kernel.matmul(a, b).dtype == np.float64


@pytest.mark.parametrize("a,b,match", [((2, 3), (4, 5), "inner dimensions 3 != 4"),
                                       ((2, 3, 4), (4, 5), "2-D")])
def test_clear_errors(a, b, match):
    with pytest.raises(ValueError, match=match):
        kernel.matmul(np.zeros(a, np.float32), np.zeros(b, np.float32))


def test_runs_without_jit():
    """NUMBA_DISABLE_JIT=1 runs the same code as plain Python (for stepping through in pdb)."""
    code = ("import numpy as np; from minisnip.kernels.matmul import matmul; "
            "a = np.arange(6.).reshape(2, 3); b = np.arange(12.).reshape(3, 4); "
            "assert np.array_equal(matmul(a, b), a @ b); "
            "a = np.ones((2, 130)); b = np.ones((130, 5)); "  # the dot-tile path, k >= 128
            "assert np.array_equal(matmul(a, b.T.copy().T), a @ b); print('ok')")
    env = dict(os.environ, NUMBA_DISABLE_JIT="1",
               PYTHONPATH=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0 and "ok" in out.stdout, out.stderr


def test_blas_backend_switch_gives_the_same_products(rng):
    import minisnip
    from minisnip import functional as F
    x = minisnip.Tensor(rng.standard_normal((5, 7)))
    w = minisnip.Tensor(rng.standard_normal((3, 7)))
    results = []
    for backend in ("numba", "blas"):
        minisnip.config.set_matmul_backend(backend)
        results.append(F.linear(x, w).data)
    minisnip.config.set_matmul_backend("numba")
    np.testing.assert_allclose(results[0], results[1], rtol=1e-12)
    with pytest.raises(ValueError, match="expected one of"):
        minisnip.config.set_matmul_backend("cuda")
