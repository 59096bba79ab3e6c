"""Shared helpers for the benchmark scripts: timing, machine description, JSON output."""
from __future__ import annotations

import datetime
import os
import platform
import statistics
import time


def time_calls(fn, repeats: int = 50, warmup: int = 3, settle: float = 0.3) -> dict:
    """Time ``fn()``: the first call apart (JIT compile), then the median of warm calls.

    Sleeps ``settle`` seconds first: OpenBLAS and PyTorch keep their worker threads spinning
    for a while after a call, and on 2 cores those spinning threads would steal the next
    measurement's cores (measured: up to 20x slower Numba kernels right after NumPy's @).
    """
    time.sleep(settle)
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
    from minisnip.files import write_json
    directory = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")
    return write_json(os.path.join(directory, f"{name}.json"), payload)


def set_threads(threads: int) -> None:
    """Pin every thread pool (Numba, OpenBLAS, PyTorch) to ``threads``; call before imports run."""
    for var in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(threads)


def minisnip_step(model_name: str, x, y, optimizer: str = "sgd", lr: float = 0.01,
                  sparsity=None, init_scheme: str = "vs-x"):
    """A closure running one minisnip training step (forward, backward, update) of
    ``model_name`` on the fixed batch ``(x, y)``; returns ``(step, model)``."""
    import numpy as np
    import minisnip
    from minisnip import functional as F, optim
    from minisnip.models import build_model
    from minisnip.nn import init
    model = build_model(model_name)
    init.initialize(model, init_scheme, rng=np.random.default_rng(0))
    if sparsity:
        from minisnip.snip import prune
        prune(model, x, y, sparsity)
    params = list(model.parameters())
    opt = (optim.Adam(params, lr=lr) if optimizer == "adam"
           else optim.SGD(params, lr=lr, momentum=0.9, weight_decay=5e-4))
    xt = minisnip.Tensor(x)

    def step():
        loss = F.cross_entropy(model(xt), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return step, model


def torch_step(model, params, x, y, optimizer: str = "sgd", lr: float = 0.01):
    """The same for a PyTorch model (callable) with parameter list ``params``."""
    import torch
    opt = (torch.optim.Adam(params, lr=lr) if optimizer == "adam"
           else torch.optim.SGD(params, lr=lr, momentum=0.9, weight_decay=5e-4))
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    lossf = torch.nn.CrossEntropyLoss()

    def step():
        loss = lossf(model(xt), yt)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return step
