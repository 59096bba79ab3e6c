"""DESIGN principle 13, "parallel only when it pays": every parallel kernel runs serial below a
measured work size (``minisnip/kernels/threads.py``) and gives the calling thread its Numba
thread count back on every path, for a small (serial) and a large (parallel) call alike; the
gate decides serial below its threshold and parallel from it on, and keeps the kernels
cacheable."""
import os
import subprocess
import sys

import numba
import numpy as np
import pytest

from minisnip.kernels import batchnorm, conv, matmul, pool, recurrent, sparse, threads

from .kernel_cases import CASES, kernels

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KERNELS = kernels()
ALL_CASES = [(kernel, name, factory) for kernel, cases in sorted(CASES.items())
             for name, factory in cases]
MANY = numba.config.NUMBA_NUM_THREADS
needs_two = pytest.mark.skipif(MANY < 2, reason="one thread only: nothing to gate")


def _f32(rng, *shape):
    return rng.standard_normal(shape).astype(np.float32)


def _cell_args(rng, gates, b, h, backward):
    if gates == 4 and not backward:   # pre, c_prev, gates, c_out, h_out
        return (_f32(rng, b, 4 * h), _f32(rng, b, h), np.empty((b, 4 * h), np.float32),
                np.empty((b, h), np.float32), np.empty((b, h), np.float32))
    if gates == 4:                    # dh, dc_next, gates, c, c_prev, dpre, dc_prev
        return (_f32(rng, b, h), _f32(rng, b, h), rng.random((b, 4 * h)).astype(np.float32),
                _f32(rng, b, h), _f32(rng, b, h), np.empty((b, 4 * h), np.float32),
                np.empty((b, h), np.float32))
    if not backward:                  # xw, hw, h_prev, gates, h_out
        return (_f32(rng, b, 3 * h), _f32(rng, b, 3 * h), _f32(rng, b, h),
                np.empty((b, 3 * h), np.float32), np.empty((b, h), np.float32))
    return (_f32(rng, b, h), rng.random((b, 3 * h)).astype(np.float32),   # dh, gates, hw, h_prev,
            _f32(rng, b, 3 * h), _f32(rng, b, h), np.empty((b, 3 * h), np.float32),  # dxw,
            np.empty((b, 3 * h), np.float32), np.empty((b, h), np.float32))  # dhw, dh_direct


# One call of every gated kernel well above its threshold: its prange loop runs in parallel.
LARGE = {
    "matmul.tiles": (matmul.MATMUL_MIN_FLOPS,
                     lambda r: (_f32(r, 256, 64), matmul.pack_columns(_f32(r, 64, 256)), 256)),
    "matmul.dot_tiles": (matmul.MATMUL_MIN_FLOPS,
                         lambda r: (_f32(r, 128, 256), _f32(r, 128, 256), 64)),
    "matmul.long_k": (matmul.MATMUL_MIN_FLOPS,
                      lambda r: (_f32(r, 8, 4 * matmul.KC), _f32(r, 8, 4 * matmul.KC))),
    "matmul.matmul": (matmul.MATMUL_MIN_FLOPS, lambda r: (_f32(r, 256, 300), _f32(r, 300, 256))),
    "matmul.pack_columns": (matmul.COPY_MIN_ELEMENTS, lambda r: (_f32(r, 2048, 128),)),
    "matmul.transposed": (matmul.COPY_MIN_ELEMENTS, lambda r: (_f32(r, 512, 512),)),
    "conv.im2col": (conv.UNFOLD_MIN_ELEMENTS, lambda r: (_f32(r, 64, 4, 16, 16), 3, 3, 1, 1)),
    "conv.col2im": (conv.UNFOLD_MIN_ELEMENTS,
                    lambda r: (_f32(r, 36, 64 * 256), 64, 4, 16, 16, 3, 3, 1, 1)),
    "pool.max_pool2d_forward": (pool.POOL_MIN_CELLS,
                                lambda r: (_f32(r, 64, 8, 32, 32), (2, 2), (2, 2), (0, 0))),
    "pool.max_pool2d_backward": (pool.POOL_MIN_CELLS, lambda r: (
        _f32(r, 64, 8, 16, 16), r.integers(0, 1024, (64, 8, 16, 16)), 32, 32)),
    "pool.avg_pool2d_forward": (pool.POOL_MIN_CELLS,
                                lambda r: (_f32(r, 64, 8, 32, 32), (2, 2), (2, 2), (0, 0))),
    "pool.avg_pool2d_backward": (pool.POOL_MIN_CELLS, lambda r: (
        _f32(r, 64, 8, 16, 16), (2, 2), (2, 2), (0, 0), 32, 32)),
    "batchnorm.batch_norm_train_forward": (batchnorm.NORM_MIN_ELEMENTS, lambda r: (
        _f32(r, 64, 8, 32, 32), _f32(r, 8), _f32(r, 8), 1e-5)),
    "batchnorm.batch_norm_eval_forward": (batchnorm.NORM_MIN_ELEMENTS, lambda r: (
        _f32(r, 64, 8, 32, 32), _f32(r, 8), _f32(r, 8), _f32(r, 8), r.random(8) + 0.5, 1e-5)),
    "batchnorm.batch_norm_train_backward": (batchnorm.NORM_MIN_ELEMENTS, lambda r: (
        _f32(r, 64, 8, 32, 32), _f32(r, 64, 8, 32, 32), _f32(r, 8), r.random(8) + 0.5)),
    "recurrent.lstm_cell_backward": (recurrent.CELL_MIN_UNITS,
                                     lambda r: _cell_args(r, 4, 512, 128, True)),
    "recurrent.gru_cell_backward": (recurrent.CELL_MIN_UNITS,
                                    lambda r: _cell_args(r, 3, 512, 128, True)),
    "sparse.gather": (sparse.SPARSE_MIN_WORK, lambda r: (
        _f32(r, 1024, 1024), *_pattern(r, (1024, 1024), 0.5)[:2])),
    "sparse.forward_t": (sparse.SPARSE_MIN_WORK, lambda r: (
        _f32(r, 512, 128), _f32(r, 512 * 256), *_pattern(r, (512, 512), 0.5)[:2])),
    "sparse.input_grad_t": (sparse.SPARSE_MIN_WORK, lambda r: (
        _f32(r, 512, 128), _f32(r, 512 * 256), *_pattern(r, (512, 512), 0.5)[2:])),
    "sparse.weight_grad": (sparse.SPARSE_MIN_WORK, lambda r: _weight_grad_args(r)),
}


def _weight_grad_args(rng):
    row_ptr, row_cols, *_ = _pattern(rng, (512, 512), 0.5)
    return _f32(rng, 512, 128), _f32(rng, 512, 128), row_ptr, row_cols, row_cols, 512, 512


def _pattern(rng, shape, density):
    """The pattern of a mask with exactly density * size kept entries (values fit it)."""
    flat = np.zeros(shape[0] * shape[1], bool)
    flat[rng.permutation(flat.size)[:int(density * flat.size)]] = True
    return sparse.pattern_from_mask(flat.reshape(shape))


def _parallel_kernels():
    """Every kernel compiled with parallel=True."""
    return sorted(name for name, k in KERNELS.items()
                  if getattr(k, "targetoptions", {}).get("parallel"))


def test_every_gated_parallel_kernel_has_a_large_call():
    assert _parallel_kernels(), "the inventory found no parallel kernel"
    missing = sorted(set(_parallel_kernels()) - set(LARGE))
    assert not missing, f"parallel kernels without a large call in LARGE: {missing}"


def _count_after(kernel, args, start):
    before = numba.get_num_threads()
    numba.set_num_threads(start)
    try:
        kernel(*args)
        return numba.get_num_threads()
    finally:
        numba.set_num_threads(before)


@needs_two
@pytest.mark.parametrize("kernel,name,factory", ALL_CASES,
                         ids=[f"{k}-{n}" for k, n, _ in ALL_CASES])
def test_small_calls_give_the_thread_count_back(kernel, name, factory):
    """The cases of kernel_cases.py are small: each gated kernel sets one thread and must
    restore the caller's count (all threads, or the one thread a caller asked for)."""
    for start in (MANY, 1):
        assert _count_after(KERNELS[kernel], factory(np.random.default_rng(0)), start) == start


@needs_two
@pytest.mark.parametrize("kernel", sorted(LARGE))
def test_large_calls_give_the_thread_count_back(kernel):
    for start in (MANY, 1):
        assert _count_after(KERNELS[kernel], LARGE[kernel][1](np.random.default_rng(0)),
                            start) == start


@needs_two
@pytest.mark.parametrize("kernel", sorted(LARGE))
def test_large_calls_agree_with_one_thread(kernel):
    """Above the threshold the loop runs in parallel; the result is bitwise the one-thread
    result (the small cases are compared in test_kernels.py)."""
    results = []
    for start in (MANY, 1):
        before = numba.get_num_threads()
        numba.set_num_threads(start)
        try:
            args = LARGE[kernel][1](np.random.default_rng(0))
            results.append((KERNELS[kernel](*args), args))
        finally:
            numba.set_num_threads(before)
    for a, b in zip(_arrays(results[0]), _arrays(results[1])):
        np.testing.assert_array_equal(a, b)


def _arrays(x):
    if isinstance(x, np.ndarray):
        return [x]
    if isinstance(x, (tuple, list)):
        return [a for item in x for a in _arrays(item)]
    return []


# A kernel that records which thread ran each iteration: the gate's decision made visible.
@numba.njit(parallel=True)
def _who_ran(work, threshold, iterations):
    ids = np.full(iterations, -1, np.int64)
    previous = threads.serial_below(work, threshold)
    for i in numba.prange(iterations):
        ids[i] = numba.get_thread_id()
    threads.restore(previous)
    return ids


@needs_two
@pytest.mark.skipif(numba.config.DISABLE_JIT, reason="prange is range without the JIT")
def test_serial_below_the_threshold_parallel_from_it():
    below = _who_ran(999, 1000, 64)
    assert set(below.tolist()) == {0}, "below the threshold one thread runs the whole loop"
    assert numba.get_num_threads() == MANY
    at = _who_ran(1000, 1000, 64)
    assert len(set(at.tolist())) > 1, "from the threshold on the loop is shared"
    assert numba.get_num_threads() == MANY
    before = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        assert set(_who_ran(1000, 1000, 64).tolist()) == {0}, "one thread asked: one thread"
        assert numba.get_num_threads() == 1, "the gate never raises the count"
    finally:
        numba.set_num_threads(before)


def _fresh(code, **env):
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                          timeout=600, env=dict(os.environ, PYTHONPATH=ROOT, **env))
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.split()


def test_gated_kernels_load_from_the_cache(tmp_path):
    """The gate must not make the kernels uncacheable (numba.set_num_threads inside a kernel
    does: a ctypes pointer): in a fresh process a gated kernel comes from the cache. An empty
    cache folder: Numba keys a kernel's cache on its own file only, so a cache written before
    a change to threads.py would still load."""
    code = ("import warnings, numpy as np\n"
            "warnings.simplefilter('error')\n"
            "from minisnip.kernels import matmul, conv\n"
            "a = np.ones((4, 8), np.float32)\n"
            "matmul.tiles(a, matmul.pack_columns(a.T.copy()), 4)\n"
            "conv.im2col(np.ones((1, 1, 4, 4), np.float32), 3, 3, 1, 0)\n"
            "print(sum(matmul.tiles.stats.cache_hits.values()),"
            " sum(conv.im2col.stats.cache_hits.values()))")
    cache = dict(NUMBA_CACHE_DIR=str(tmp_path))
    assert _fresh(code, **cache) == ["0", "0"]  # compiles and writes the cache
    assert _fresh(code, **cache) == ["1", "1"]  # loads it


def test_the_gate_called_first_from_python_in_a_fresh_process(tmp_path):
    """Called before any parallel kernel started the thread pool: no crash (a helper loaded
    from the cache would find the threading layer's symbols missing: the second process
    would load what the first one wrote), and the count comes back."""
    code = ("import numba\n"
            "from minisnip.kernels import threads\n"
            "p = threads.serial_below(1, 10)\n"
            "inside = numba.get_num_threads()\n"
            "threads.restore(p)\n"
            "print(p, inside, numba.get_num_threads())")
    for _ in range(2):
        assert _fresh(code, NUMBA_NUM_THREADS="2", NUMBA_CACHE_DIR=str(tmp_path)) == ["2", "1", "2"]


_COUNT_LOOPS = """
import json, sys
import numpy as np
sys.path.insert(0, {root!r})
from tests.kernel_cases import CASES, kernels
counts = {{}}
for name, k in sorted(kernels().items()):
    if not getattr(k, "targetoptions", {{}}).get("parallel"):
        continue
    k(*CASES[name][0][1](np.random.default_rng(0)))
    d = k.get_metadata(k.signatures[0])["parfor_diagnostics"]
    nested = sum(len(v) for v in d.nested_fusion_info.values())
    counts[name] = len(d.get_parfors()) - nested
print(json.dumps(counts))
"""


def test_every_parallel_kernel_has_one_parallel_loop_the_gated_one(tmp_path):
    """In a parallel=True function ``np.zeros`` or a whole-array expression is a parallel
    loop of its own, outside the gate (it woke the threads for every small call): each
    kernel's only top-level parallel loop must be its gated ``prange``. Compiled afresh (an
    empty cache) in a new process: the loop count comes with compilation only."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path))
    done = subprocess.run([sys.executable, "-c", _COUNT_LOOPS.format(root=root)], env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    import json
    counts = json.loads(done.stdout.strip().splitlines()[-1])
    assert counts and {name: n for name, n in counts.items() if n != 1} == {}
