"""NUMBA_DISABLE_JIT=1 runs every kernel as plain Python (so that a student can step through it
with pdb), and gives what its oracle gives: every case of tests/kernel_cases.py, for every
kernel that tests/kernel_cases.kernels() finds (a new kernel cannot be skipped here)."""
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

CODE = r"""
import inspect
import numba
from minisnip.kernels import reference
from tests.kernel_cases import CASES, kernels, run_case

assert numba.config.DISABLE_JIT
found = kernels()
compiled = sorted(name for name, kernel in found.items() if not inspect.isfunction(kernel))
assert not compiled, f"still compiled: {compiled}"
missing = sorted(set(found) - set(CASES))
assert not missing, f"kernels without a case: {missing}"
for kernel in sorted(found):
    for name, factory in CASES[kernel]:
        try:
            run_case(found[kernel], getattr(reference, kernel.split(".")[1]), factory)
        except Exception as error:
            raise AssertionError(f"{kernel} ({name}) without the JIT: {error}") from error
print("ok", len(found))
"""


def test_every_kernel_runs_without_jit_and_agrees_with_its_oracle():
    env = dict(os.environ, NUMBA_DISABLE_JIT="1", PYTHONPATH=ROOT)
    result = subprocess.run([sys.executable, "-c", CODE], env=env, capture_output=True,
                            text=True, timeout=900, cwd=ROOT)
    assert result.returncode == 0 and "ok" in result.stdout, result.stderr[-3000:]
    from .kernel_cases import kernels
    assert result.stdout.split() == ["ok", str(len(kernels()))]
