"""Nothing happens at import (DESIGN principle 10): ``import minisnip`` leaves Numba's thread
count and malloc alone; the tunings are explicit calls (``config.tune_process``); a bad
``MINISNIP_MATMUL`` is a clear error at first use. Each check runs in a fresh interpreter,
since what it watches is process-wide."""
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LINUX = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc")


def _python(code: str, **env) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter importing this worktree's minisnip; ``env``
    overrides the environment (a value of None removes the variable)."""
    environ = dict(os.environ, PYTHONPATH=ROOT)
    for name in ("MINISNIP_MATMUL", "MINISNIP_KEEP_FREED_MEMORY", "NUMBA_NUM_THREADS"):
        environ.pop(name, None)
    for name, value in env.items():
        if value is None:
            environ.pop(name, None)
        else:
            environ[name] = value
    return subprocess.run([sys.executable, "-c", code], env=environ, capture_output=True,
                          text=True, timeout=300, cwd=ROOT)


def _stdout(code: str, **env) -> str:
    result = _python(code, **env)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout.split()


# Whether malloc keeps freed memory, observed: 100 MB of 64 KB blocks (below any mmap
# threshold, so they come from the heap) are freed; glibc's defaults (trim threshold at most
# 64 MB) hand the free top of the heap back to the OS, keep_freed_memory's (2 GB) keep it.
# mallinfo2's ``keepcost`` is that free top, in bytes.
MALLOC_PROBE = r"""
import ctypes
libc = ctypes.CDLL("libc.so.6")
class MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks",
        "fordblks", "keepcost")]
libc.mallinfo2.restype = MallInfo2
libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
libc.free.argtypes = [ctypes.c_void_p]
blocks = (ctypes.c_void_p * 1600)()
for i in range(1600):
    blocks[i] = libc.malloc(64 * 1024)
for i in reversed(range(1600)):
    libc.free(blocks[i])
print(libc.mallinfo2().keepcost // 2 ** 20)
"""


def _has_mallinfo2() -> bool:
    import ctypes
    try:
        return hasattr(ctypes.CDLL("libc.so.6"), "mallinfo2")  # glibc >= 2.33
    except OSError:
        return False


@LINUX
@pytest.mark.skipif(not _has_mallinfo2(), reason="needs glibc's mallinfo2 (glibc >= 2.33)")
def test_import_leaves_malloc_alone():
    untouched = int(_stdout("import minisnip\n" + MALLOC_PROBE)[0])
    tuned = int(_stdout("import minisnip\nminisnip.config.tune_process()\n" + MALLOC_PROBE)[0])
    assert tuned >= 90, f"the probe did not see the explicit tuning ({tuned} MB kept)"
    assert untouched < 32, f"import minisnip changed malloc: {untouched} MB of freed heap kept"


def test_import_and_the_backend_switch_leave_numbas_thread_count_alone():
    """With MINISNIP_MATMUL=blas, which once set one thread at import, and after switching
    the backend both ways."""
    code = ("import numba\n"
            "before = numba.get_num_threads()\n"
            "import numpy as np, minisnip\n"
            "after_import = numba.get_num_threads()\n"
            "minisnip.Tensor(np.ones((3, 4))) @ minisnip.Tensor(np.ones((4, 2)))\n"
            "after_product = numba.get_num_threads()\n"
            "minisnip.config.set_matmul_backend('numba')\n"
            "minisnip.config.set_matmul_backend('blas')\n"
            "print(before, after_import, after_product, numba.get_num_threads())\n")
    assert _stdout(code, MINISNIP_MATMUL="blas", NUMBA_NUM_THREADS="2") == ["2"] * 4


def test_a_users_thread_count_survives_the_backend_switch():
    code = ("import numba, minisnip\n"
            "numba.set_num_threads(1)\n"
            "minisnip.config.set_matmul_backend('blas')\n"
            "numba.set_num_threads(2)\n"
            "minisnip.config.set_matmul_backend('numba')\n"
            "print(numba.get_num_threads())\n")
    assert _stdout(code, NUMBA_NUM_THREADS="2") == ["2"]


def test_a_bad_MINISNIP_MATMUL_is_an_error_at_first_use_not_at_import():
    code = ("import numpy as np, minisnip\n"
            "print('imported')\n"
            "try:\n"
            "    minisnip.Tensor(np.ones((3, 4))) @ minisnip.Tensor(np.ones((4, 2)))\n"
            "except ValueError as error:\n"
            "    print(error)\n")
    out = " ".join(_stdout(code, MINISNIP_MATMUL="cuda"))
    assert out.startswith("imported") and "MINISNIP_MATMUL='cuda'" in out and "blas" in out
    cli = _python("from minisnip.cli import main; raise SystemExit(main(['models']))",
                  MINISNIP_MATMUL="cuda")
    assert cli.returncode == 2 and "MINISNIP_MATMUL='cuda'" in cli.stderr, cli.stderr[-2000:]


@pytest.mark.parametrize("env,threads", [
    (dict(MINISNIP_MATMUL="blas"), "1"),                          # BLAS: Numba steps aside
    (dict(MINISNIP_MATMUL="blas", NUMBA_NUM_THREADS="2"), "2"),   # unless the user chose
    (dict(NUMBA_NUM_THREADS="2"), "2"),                           # Numba backend: all threads
])
def test_tune_process_threads(env, threads):
    code = ("import minisnip\n"
            "done = minisnip.config.tune_process()\n"
            "again = minisnip.config.tune_process()\n"
            "print(done['matmul_backend'], done['numba_threads'], again['numba_threads'])\n")
    assert _stdout(code, **env) == [env.get("MINISNIP_MATMUL", "numba"), threads, threads]


@LINUX
@pytest.mark.parametrize("setting", ["1", "0"])
def test_tuned_process_reuses_freed_memory_step_after_step(setting):
    """A conv step's large temporaries are reused, not first-touched again, once the process
    is tuned (page faults are counted, not timed: deterministic on a noisy machine); with
    MINISNIP_KEEP_FREED_MEMORY=0 the tuning leaves malloc alone."""
    code = (
        "import resource, numpy as np, minisnip\n"
        "from minisnip import Tensor, functional as F\n"
        "kept = minisnip.config.tune_process()['freed_memory_kept']\n"
        "x = Tensor(np.ones((64, 8, 16, 16), np.float32))\n"
        "w = Tensor(np.ones((16, 8, 5, 5), np.float32), requires_grad=True)\n"
        "def step():\n"
        "    F.conv2d(x, w).sum().backward()\n"
        "for _ in range(3): step()\n"
        "f0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt\n"
        "for _ in range(5): step()\n"
        "print(kept, (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - f0) / 5)\n")
    kept, faults = _stdout(code, MINISNIP_KEEP_FREED_MEMORY=setting, NUMBA_NUM_THREADS="1")
    if setting == "1":
        assert kept == "True" and float(faults) < 50
    else:
        assert kept == "False" and float(faults) > 500


# ------------------------------------------------------------- threads that pay under load
@pytest.mark.parametrize("others, configured, cores, want", [
    (0.0, 2, 2, 2), (0.3, 2, 2, 2), (0.6, 2, 2, 1), (1.0, 2, 2, 1), (1.9, 2, 2, 1),
    (5.0, 2, 2, 1), (0.4, 4, 4, 4), (1.2, 4, 4, 3), (2.6, 4, 4, 1), (0.0, 1, 8, 1),
    (None, 3, 8, 3)])
def test_threads_for_load_leaves_the_cores_others_hold(others, configured, cores, want):
    from minisnip.config import threads_for_load
    assert threads_for_load(others, configured, cores) == want


def test_the_load_watch_subtracts_this_process_and_needs_a_long_enough_window(monkeypatch):
    from minisnip import config
    clock = {"machine": 100.0, "own": 10.0, "wall": 1000.0}
    monkeypatch.setattr(config, "machine_busy_seconds", lambda: clock["machine"])
    monkeypatch.setattr(config, "_own_cpu_seconds", lambda: clock["own"])
    monkeypatch.setattr(config.time, "monotonic", lambda: clock["wall"])
    watch = config.LoadWatch()
    clock.update(machine=100.1, own=10.05, wall=1000.1)
    assert watch.others() is None                      # 0.1 s: too short to tell
    clock.update(machine=101.5, own=10.5, wall=1001.0)  # 1.5 s busy, 0.5 of it ours, in 1 s
    assert watch.others() == pytest.approx(1.0)
    monkeypatch.setattr(config, "machine_busy_seconds", lambda: None)
    assert watch.others() is None                      # no /proc/stat


def test_the_load_watch_reads_this_machine():
    import time
    from minisnip.config import LoadWatch
    watch = LoadWatch()
    end = time.monotonic() + 0.4
    while time.monotonic() < end:   # our own CPU: not counted as others'
        pass
    others = watch.others()
    assert others is not None and 0.0 <= others <= os.cpu_count()


def _adapt_under(monkeypatch, others):
    from minisnip import config
    monkeypatch.setattr(config.LoadWatch, "others", lambda self: others)
    return config.adapt_threads(config.LoadWatch())


def test_adapt_threads_follows_the_load_but_never_a_users_choice(monkeypatch):
    import numba
    from minisnip import config
    monkeypatch.delenv("NUMBA_NUM_THREADS", raising=False)
    monkeypatch.delenv("MINISNIP_ADAPT_THREADS", raising=False)
    full = numba.config.NUMBA_NUM_THREADS
    if full < 2:
        pytest.skip("one core: nothing to adapt")
    with config.restore_threads():
        assert _adapt_under(monkeypatch, float(full)) == 1
        assert _adapt_under(monkeypatch, None) == 1       # unknown: unchanged
        assert _adapt_under(monkeypatch, 0.0) == full
        numba.set_num_threads(1)                          # the user's choice
        assert _adapt_under(monkeypatch, 0.0) == 1
    assert numba.get_num_threads() == full
    with config.restore_threads():
        monkeypatch.setenv("MINISNIP_ADAPT_THREADS", "0")
        assert _adapt_under(monkeypatch, float(full)) == full
        monkeypatch.delenv("MINISNIP_ADAPT_THREADS")
        monkeypatch.setenv("NUMBA_NUM_THREADS", str(full))
        assert _adapt_under(monkeypatch, float(full)) == full


def test_a_run_on_a_busy_machine_trains_on_fewer_threads_records_them_and_restores(monkeypatch):
    import numba
    from minisnip import config, train
    monkeypatch.delenv("NUMBA_NUM_THREADS", raising=False)
    full = numba.config.NUMBA_NUM_THREADS
    if full < 2:
        pytest.skip("one core: nothing to adapt")
    monkeypatch.setattr(config.LoadWatch, "others", lambda self: float(full))
    busy = train.run(train.RunConfig(dataset="fashion-mini", epochs=2, max_train=200, quiet=True))
    monkeypatch.setattr(config.LoadWatch, "others", lambda self: 0.0)
    idle = train.run(train.RunConfig(dataset="fashion-mini", epochs=2, max_train=200, quiet=True))
    assert [h["threads"] for h in busy["history"]] == [1, 1]
    assert [h["threads"] for h in idle["history"]] == [full, full]
    assert busy["test_error"] == idle["test_error"]   # the thread count changes no number
    assert numba.get_num_threads() == full
