"""Where a minisnip step's time goes: per Numba kernel, per op, and outside both.

The library is not changed: while a :class:`Breakdown` is installed, it wraps

* every ``forward`` and ``backward`` of every ``minisnip.autograd.Function`` subclass (an
  *op*), and
* every Numba dispatcher that Python code calls in ``minisnip.kernels`` (a *kernel*; helpers
  that are only called from other jitted code are left alone), wherever a ``minisnip``
  module holds a reference to it,

each wrapper timing its call with ``perf_counter`` on a stack, so that every call gets its
inclusive time and its *self* time (its time minus that of the wrapped calls inside it).
So an op's self time is what the op spends outside kernels (NumPy work, copies, Python), and
what a step spends outside every op is the graph walk, Tensor and Module bookkeeping and the
optimizer's Python loop. A parallel kernel's call is one wake-up of the thread pool; the
breakdown counts them. Page faults and context switches per step come from ``getrusage``.

The wrappers cost about a microsecond per call: the profiled step time is printed beside the
unprofiled one.
"""
from __future__ import annotations

import importlib
import pkgutil
import resource
import sys
import time
import types
from collections import defaultdict


def _is_dispatcher(obj) -> bool:
    return hasattr(obj, "py_func") and hasattr(obj, "targetoptions")


class Breakdown:
    def __init__(self):
        self.inclusive = defaultdict(float)
        self.self_time = defaultdict(float)
        self.calls = defaultdict(int)
        self.kind = {}  # kernel label -> "numba parallel", "numba" or "python"
        self.top_level = 0.0  # time in wrapped calls made from unwrapped code
        self._stack = []  # one [time of wrapped calls inside] per open call
        self._undo = []

    # ------------------------------------------------------------------ wrapping
    def _timed(self, key, fn):
        inclusive, self_time, calls, stack = self.inclusive, self.self_time, self.calls, self._stack
        breakdown = self

        def wrapper(*args, **kwargs):
            frame = [0.0]
            stack.append(frame)
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                elapsed = time.perf_counter() - t0
                stack.pop()
                inclusive[key] += elapsed
                self_time[key] += elapsed - frame[0]
                calls[key] += 1
                if stack:
                    stack[-1][0] += elapsed
                else:
                    breakdown.top_level += elapsed
        wrapper.__wrapped__ = fn
        return wrapper

    def install(self) -> "Breakdown":
        import minisnip.ops  # noqa: F401  (defines every Function)
        from minisnip.autograd import Function
        for module_info in pkgutil.walk_packages(importlib.import_module("minisnip.kernels").__path__,
                                                 "minisnip.kernels."):
            importlib.import_module(module_info.name)
        # ops: forward and backward of every Function subclass
        todo, seen = list(Function.__subclasses__()), set()
        while todo:
            cls = todo.pop()
            if cls in seen:
                continue
            seen.add(cls)
            todo.extend(cls.__subclasses__())
            for phase in ("forward", "backward"):
                if phase in cls.__dict__:
                    original = cls.__dict__[phase]
                    fn = original.__func__ if isinstance(original, staticmethod) else original
                    setattr(cls, phase, staticmethod(self._timed(("op", f"{cls.__name__}.{phase}"), fn)))
                    self._undo.append((cls, phase, original))
        # kernels: dispatchers called from Python, wherever minisnip holds them; and the
        # kernel modules' Python functions and methods (the glue: choosing, copying, laying
        # out operands), whose self time is the NumPy work they do around the kernels
        targets = {}
        for mod_name, module in list(sys.modules.items()):
            if not mod_name.startswith("minisnip.kernels.") or module is None:
                continue
            short = mod_name.rsplit(".", 1)[1]
            dispatchers = {k: v for k, v in vars(module).items() if _is_dispatcher(v)
                           and v.py_func.__module__ == mod_name}
            inner = set()
            for d in dispatchers.values():
                inner.update(d.py_func.__code__.co_names)
            for attr, d in dispatchers.items():
                if attr not in inner:
                    kind = "numba parallel" if d.targetoptions.get("parallel") else "numba"
                    targets[id(d)] = (f"{short}.{attr}", d, kind)
            for attr, value in list(vars(module).items()):
                if isinstance(value, types.FunctionType) and value.__module__ == mod_name:
                    targets[id(value)] = (f"{short}.{attr}", value, "python")
                elif isinstance(value, type) and value.__module__ == mod_name:
                    for meth, fn in list(vars(value).items()):
                        if isinstance(fn, types.FunctionType) and not meth.startswith("__"):
                            label = f"{short}.{value.__name__}.{meth}"
                            self.kind[label] = "python"
                            setattr(value, meth, self._timed(("kernel", label), fn))
                            self._undo.append((value, meth, fn))
        for mod_name, module in list(sys.modules.items()):
            if not mod_name.startswith("minisnip") or module is None:
                continue
            for attr, value in list(vars(module).items()):
                if id(value) in targets and value is targets[id(value)][1]:
                    label, fn, kind = targets[id(value)]
                    self.kind[label] = kind
                    setattr(module, attr, self._timed(("kernel", label), fn))
                    self._undo.append((module, attr, fn))
        return self

    def uninstall(self) -> None:
        for owner, attr, original in reversed(self._undo):
            setattr(owner, attr, original)
        self._undo.clear()

    def __enter__(self):
        return self.install()

    def __exit__(self, *exc):
        self.uninstall()
        return False

    def reset(self) -> None:
        self.inclusive.clear()
        self.self_time.clear()
        self.calls.clear()
        self.top_level = 0.0


def profile_step(step, calls: int = 10, warm: int = 2, attempts: int = 3,
                 phases=("forward", "backward", "update")) -> dict:
    """Time ``calls`` steps of a :class:`benchmarks.nets.MinisnipStep` plainly, then ``calls``
    more under a Breakdown (after ``warm`` plain ones); return per-step figures (ms):
    phases, kernels, ops, and the rest. When other processes used more than
    ``common.quiet_limit()`` meanwhile, it tries again, ``attempts`` times in all, and keeps
    the least disturbed attempt (its ``other_cores`` says how disturbed)."""
    from benchmarks.common import LoadMeter, quiet_limit
    best = None
    for _ in range(attempts):
        with LoadMeter() as meter:
            result = _profile_once(step, calls, warm, phases)
        result["other_cores"] = round(meter.other_cores, 2)
        if best is None or result["other_cores"] < best["other_cores"]:
            best = result
        if best["other_cores"] <= quiet_limit():
            break
    return best


def _profile_once(step, calls, warm, phases) -> dict:
    for _ in range(warm):
        step()
    t0 = time.perf_counter()
    for _ in range(calls):
        step()
    plain = (time.perf_counter() - t0) / calls
    phase_time = defaultdict(float)
    with Breakdown() as bd:
        usage0 = resource.getrusage(resource.RUSAGE_SELF)
        t0 = time.perf_counter()
        for _ in range(calls):
            for phase in phases:
                p0 = time.perf_counter()
                getattr(step, phase)()
                phase_time[phase] += time.perf_counter() - p0
        profiled = (time.perf_counter() - t0) / calls
        usage1 = resource.getrusage(resource.RUSAGE_SELF)
    per = 1e3 / calls
    kernels = {k[1]: dict(ms=bd.self_time[k] * per, calls=bd.calls[k] / calls,
                          kind=bd.kind.get(k[1], "python"))
               for k in bd.calls if k[0] == "kernel"}
    ops = {k[1]: dict(ms=bd.inclusive[k] * per, self_ms=bd.self_time[k] * per,
                      calls=bd.calls[k] / calls)
           for k in bd.calls if k[0] == "op"}
    return dict(
        step_ms=plain * 1e3, profiled_step_ms=profiled * 1e3,
        phases_ms={p: t * per for p, t in phase_time.items()},
        kernels=dict(sorted(kernels.items(), key=lambda kv: -kv[1]["ms"])),
        ops=dict(sorted(ops.items(), key=lambda kv: -kv[1]["ms"])),
        kernel_ms=sum(v["ms"] for v in kernels.values()),
        op_self_ms=sum(v["self_ms"] for v in ops.values()),
        outside_ops_ms=profiled * 1e3 - bd.top_level * per,
        parallel_kernel_calls=sum(v["calls"] for v in kernels.values()
                                  if v["kind"] == "numba parallel"),
        serial_kernel_calls=sum(v["calls"] for v in kernels.values() if v["kind"] == "numba"),
        op_calls=sum(v["calls"] for v in ops.values()),
        page_faults=(usage1.ru_minflt - usage0.ru_minflt) / calls,
        context_switches=((usage1.ru_nvcsw - usage0.ru_nvcsw)
                          + (usage1.ru_nivcsw - usage0.ru_nivcsw)) / calls)


def format_breakdown(name: str, b: dict, top: int = 12) -> str:
    lines = [f"where the time goes, {name}: {b['step_ms']:.2f} ms per step "
             f"({b['profiled_step_ms']:.2f} profiled); "
             + ", ".join(f"{p} {t:.2f}" for p, t in b["phases_ms"].items())
             + (f"; other processes {b['other_cores']:.2f} cores" if "other_cores" in b else "")]
    lines.append(f"  {'kernel (self time)':34s} {'calls':>6s} {'ms/step':>8s} {'share':>6s}")
    total = b["profiled_step_ms"]
    for k, v in list(b["kernels"].items())[:top]:
        flag = {"numba parallel": " par", "numba": "", "python": " (py)"}[v["kind"]]
        lines.append(f"  {k + flag:34s} {v['calls']:6.0f} {v['ms']:8.3f} {v['ms'] / total:6.0%}")
    lines.append(f"  {'op (inclusive / outside kernels)':34s} {'calls':>6s} {'ms/step':>8s}")
    for k, v in list(b["ops"].items())[:top]:
        lines.append(f"  {k:34s} {v['calls']:6.0f} {v['ms']:8.3f} / {v['self_ms']:.3f}")
    lines.append(f"  kernels {b['kernel_ms']:.2f} ms, ops outside kernels {b['op_self_ms']:.2f} ms, "
                 f"outside ops (graph walk, Python, optimizer loop) {b['outside_ops_ms']:.2f} ms; "
                 f"{b['parallel_kernel_calls']:.0f} parallel (thread wake-ups) + "
                 f"{b['serial_kernel_calls']:.0f} serial Numba calls, {b['op_calls']:.0f} op calls; {b['page_faults']:.0f} page faults, "
                 f"{b['context_switches']:.0f} context switches per step")
    return "\n".join(lines)
