"""Every kernel has an oracle of the same name and parameters in kernels/reference.py, and
agrees with it on every case of tests/kernel_cases.py (DESIGN principle 3); the cases of the
composite kernels reach every matmul kernel."""
import inspect

import numpy as np
import pytest

from minisnip.kernels import matmul as mm
from minisnip.kernels import reference

from .kernel_cases import CASES, kernels, record_product_paths, run_case

KERNELS = kernels()
ALL_CASES = [(kernel, name, factory) for kernel, cases in sorted(CASES.items())
             for name, factory in cases]
CASE_IDS = [f"{kernel}-{name}" for kernel, name, _ in ALL_CASES]


def _parameters(function) -> list:
    return list(inspect.signature(getattr(function, "py_func", function)).parameters)


def test_the_inventory_sees_plain_and_compiled_kernels_but_no_imports():
    assert {"matmul.matmul", "matmul.tiles", "conv.conv2d_forward", "sparse.pattern_from_mask",
            "recurrent.lstm_cell_forward", "activations.sigmoid"} <= set(KERNELS)
    assert "recurrent.sigmoid" not in KERNELS and "conv.NUMBA" not in KERNELS  # imported names
    assert not any(name.split(".")[1].startswith("_") for name in KERNELS)


def test_kernel_names_are_unique_across_families():
    """reference.py is one namespace: two kernels of one name could not both have an oracle."""
    names = [qualified.split(".")[1] for qualified in KERNELS]
    assert len(names) == len(set(names)), sorted(n for n in names if names.count(n) > 1)


def test_every_kernel_has_an_oracle_of_the_same_name_and_parameters():
    missing = sorted(k for k in KERNELS if not hasattr(reference, k.split(".")[1]))
    assert not missing, f"kernels without an oracle in kernels/reference.py: {missing}"
    different = {k: (_parameters(f), _parameters(getattr(reference, k.split(".")[1])))
                 for k, f in KERNELS.items()
                 if _parameters(f) != _parameters(getattr(reference, k.split(".")[1]))}
    assert not different, f"oracle parameters differ from the kernel's: {different}"


def test_every_oracle_belongs_to_a_kernel():
    names = {k.split(".")[1] for k in KERNELS}
    oracles = {name for name, obj in vars(reference).items()
               if inspect.isfunction(obj) and obj.__module__ == reference.__name__
               and not name.startswith("_")}
    stale = sorted(oracles - names)
    assert not stale, f"oracles of no kernel (renamed or removed?): {stale}"


def test_every_kernel_has_a_case():
    assert not sorted(set(KERNELS) - set(CASES)), "kernels without a case in tests/kernel_cases.py"
    assert not sorted(set(CASES) - set(KERNELS)), "cases of no kernel"


@pytest.mark.parametrize("kernel,name,factory", ALL_CASES, ids=CASE_IDS)
def test_kernel_matches_its_oracle(kernel, name, factory):
    run_case(KERNELS[kernel], getattr(reference, kernel.split(".")[1]), factory)


def test_the_right_operand_oracle_agrees_for_both_layouts(rng):
    for k in (5, mm.DOT_MIN_K + 3):  # packed strips for the rank-1 tiles, B^T for dot tiles
        b, a = rng.standard_normal((k, 9)).T.T, rng.standard_normal((4, k))
        np.testing.assert_allclose(mm.RightOperand(b).left_multiply(a),
                                   reference.RightOperand(b).left_multiply(a), rtol=1e-12)


# Which matmul kernels the cases of each kernel that multiplies matrices must reach (the
# convolution's weight gradient over a large batch is the product with a tiny output and a
# very long k; the recurrent ones lay W_hh out for the rank-1 or for the dot-product tiles).
REQUIRED_PATHS = {
    "matmul.matmul": {"tiles", "tiles C^T", "dot_tiles", "long_k"},
    "conv.conv2d_forward": {"tiles", "tiles C^T", "dot_tiles"},
    "conv.conv2d_weight_grad": {"tiles C^T", "dot_tiles", "long_k"},
    "conv.conv2d_input_grad": {"tiles", "dot_tiles"},
    "recurrent.lstm_forward": {"tiles", "dot_tiles"},
    "recurrent.lstm_backward": {"tiles", "dot_tiles"},
    "recurrent.gru_forward": {"tiles", "dot_tiles"},
    "recurrent.gru_backward": {"tiles", "dot_tiles"},
}


@pytest.mark.parametrize("kernel", sorted(REQUIRED_PATHS))
def test_the_cases_reach_every_matmul_kernel(kernel, monkeypatch):
    paths = record_product_paths(monkeypatch)
    for _, factory in CASES[kernel]:
        KERNELS[kernel](*factory(np.random.default_rng(0)))
    assert REQUIRED_PATHS[kernel] <= paths, f"{kernel}: cases reach only {sorted(paths)}"


@pytest.mark.parametrize("kernel,name,factory", ALL_CASES, ids=CASE_IDS)
def test_results_do_not_depend_on_the_thread_count(kernel, name, factory):
    """DESIGN principle 9: every output element is computed by one thread in a fixed order,
    so one thread and all threads give bitwise the same result (and the same written arrays)."""
    import numba
    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("one thread only: nothing to compare")
    before, results = numba.get_num_threads(), []
    try:
        for threads in (numba.config.NUMBA_NUM_THREADS, 1):
            numba.set_num_threads(threads)
            args = factory(np.random.default_rng(0))
            results.append((KERNELS[kernel](*args), args))
    finally:
        numba.set_num_threads(before)
    _assert_bitwise_equal(results[0], results[1])


def _assert_bitwise_equal(a, b):
    if isinstance(a, (tuple, list)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _assert_bitwise_equal(x, y)
    elif isinstance(a, np.ndarray):
        np.testing.assert_array_equal(a, b)  # NaN equals NaN here, nothing else is forgiven
    else:
        assert a == b or a is b
