"""Task 3.1: the dot-product matrix product against its oracle; its speed is reported."""
import numpy as np
import numba
import pytest

from minisnip.course.testing import best_time, report
from minisnip.kernels import reference
from minisnip.kernels.matmul import dot_block, dot_tiles


@pytest.mark.parametrize("m,k,n", [(4, 128, 4), (7, 130, 5), (1, 200, 9), (33, 150, 17)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_against_the_oracle(m, k, n, dtype):
    rng = np.random.default_rng(m * n)
    a = rng.standard_normal((m, k)).astype(dtype)
    bt = rng.standard_normal((n, k)).astype(dtype)
    got = dot_tiles(a, bt, dot_block(k, a.itemsize))
    assert got.shape == (m, n) and got.dtype == dtype
    np.testing.assert_allclose(got, reference.dot_tiles(a, bt, 4), rtol=1e-4 if dtype ==
                               np.float32 else 1e-10, atol=1e-4 if dtype == np.float32 else 1e-10)


def test_the_same_result_at_every_thread_count():
    rng = np.random.default_rng(0)
    a, bt = rng.standard_normal((20, 300)), rng.standard_normal((11, 300))
    results = []
    for threads in sorted({1, numba.config.NUMBA_NUM_THREADS}):
        numba.set_num_threads(threads)
        results.append(dot_tiles(a, bt, 8))
    numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
    assert all(np.array_equal(results[0], r) for r in results)


def test_speed_is_reported():
    rng = np.random.default_rng(1)
    a = rng.standard_normal((100, 784)).astype(np.float32)
    bt = rng.standard_normal((300, 784)).astype(np.float32)
    ours = best_time(lambda: dot_tiles(a, bt, dot_block(784, 4)))
    numpy = best_time(lambda: a @ bt.T)
    flops = 2 * 100 * 784 * 300
    report("3.1", f"(100, 784) @ (784, 300) float32, {numba.get_num_threads()} thread(s): "
                  f"{flops / ours / 1e9:.1f} GFLOP/s; NumPy's BLAS {flops / numpy / 1e9:.1f}")
