"""Shared helpers for the benchmark scripts: timing, machine description, JSON output."""
from __future__ import annotations

import datetime
import json
import os
import platform
import statistics
import time


def time_calls(fn, repeats: int = 50, warmup: int = 3) -> dict:
    """Time ``fn()``: the first call apart (JIT compile), then the median of warm calls."""
    t0 = time.perf_counter()
    fn()
    first = time.perf_counter() - t0
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return dict(first_call_s=first, median_s=statistics.median(times), min_s=min(times),
                repeats=repeats)


def machine_info(threads: int) -> dict:
    import numba
    import numpy
    cpu = platform.processor()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    info = dict(cpu=cpu, cores=os.cpu_count(), threads=threads, python=platform.python_version(),
                numpy=numpy.__version__, numba=numba.__version__,
                date=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"))
    try:
        import torch
        info["torch"] = torch.__version__
    except ImportError:
        info["torch"] = None
    return info


def write_result(name: str, payload: dict) -> str:
    directory = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, f"{name}.json")
    with open(path + ".tmp", "w") as f:
        json.dump(payload, f, indent=2)
        f.write("\n")
    os.replace(path + ".tmp", path)
    return path


def set_threads(threads: int) -> None:
    """Pin every thread pool (Numba, OpenBLAS, PyTorch) to ``threads``; call before imports run."""
    for var in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(threads)
