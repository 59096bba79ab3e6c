"""The one timing harness of every benchmark script: settings, alternating rounds, goals, JSON.

Why a harness, and what it does about each way a timing on this kind of machine lies:

* **Thread settings before any import.** Numba, PyTorch, MKL and OpenBLAS read their thread
  counts once, when they start. :func:`start` sets ``NUMBA_NUM_THREADS``, ``OMP_NUM_THREADS``,
  ``MKL_NUM_THREADS`` and ``OPENBLAS_NUM_THREADS`` (and, if asked, ``OMP_WAIT_POLICY`` and
  ``NUMBA_THREADING_LAYER``) and refuses to run if Numba or PyTorch was imported before it.
* **PyTorch imported before Numba starts its threads.** Numba's OpenMP threading layer loads
  the system's ``libgomp.so.1`` and calls ``omp_set_nested(1)``. PyTorch bundles its own
  ``libgomp.so.1``; imported *after* Numba's first parallel kernel, it finds a library of that
  name already loaded and uses it, nested parallelism switched on: its GRU step then runs
  6-7x slower (nested thread teams on 2 cores; see ``results/harness_diagnosis.json``).
  :func:`start` imports PyTorch first, and the JSON records the OpenMP runtimes that were
  loaded and whether PyTorch shares Numba's.
* **Both sides warm.** The first calls of either side are slow (Numba loading or compiling
  its kernels; PyTorch's first steps of a new module); :meth:`Session.compare` warms every
  side, interleaved, before it times anything.
* **Alternating rounds, the order alternating too.** A shared machine's speed drifts; each
  round times a block of calls of every side back to back, in an order that rotates from
  round to round (A B, B A, ...), so that whatever runs second does not always meet the other
  side's still-spinning OpenMP threads. Between blocks the harness sleeps ``settle`` seconds
  (longer than an OpenMP worker spins after its last parallel region) and collects garbage.
* **Medians of per-round ratios.** Each round gives one time per side (the median of its
  block) and one ratio per pair; the result is the median ratio over rounds with its min and
  max, never a ratio of two medians measured minutes apart.
* **The disturbance, measured.** Load averages before and after, and the CPU that *other*
  processes used during each round (machine busy time from ``/proc/stat`` minus this
  process's own CPU time, in cores), so a reader can see which rounds were disturbed.

Every script prints its goals with PASS/FAIL (:meth:`Session.goal`) and writes one JSON file
(:meth:`Session.finish`) holding the environment, the settings and every round.
"""
from __future__ import annotations

import argparse
import datetime
import gc
import os
import platform
import resource
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS = os.path.join(ROOT, "benchmarks", "results")
THREAD_VARIABLES = ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
                    "OPENBLAS_NUM_THREADS")
RECORDED_VARIABLES = THREAD_VARIABLES + (
    "OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "NUMBA_THREADING_LAYER", "NUMBA_CACHE_DIR",
    "NUMBA_DISABLE_JIT", "MINISNIP_MATMUL", "MINISNIP_KEEP_FREED_MEMORY", "MINISNIP_DEBUG")


# --------------------------------------------------------------------------- arguments
def parser(doc: str, *, rounds: int, repeats: int, warmup: int) -> argparse.ArgumentParser:
    """The options every script shares; ``doc`` is the script's docstring."""
    p = argparse.ArgumentParser(description=doc.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--threads", type=int, default=2,
                   help="threads of every pool, both frameworks (default 2)")
    p.add_argument("--rounds", type=int, default=rounds,
                   help=f"alternating rounds; the ratio is the median over them (default {rounds})")
    p.add_argument("--repeats", type=int, default=repeats,
                   help=f"timed calls per side per round; a round's time is their median "
                        f"(default {repeats})")
    p.add_argument("--warmup", type=int, default=warmup,
                   help=f"untimed calls of each side before the first round (default {warmup})")
    p.add_argument("--settle", type=float, default=0.03,
                   help="seconds of sleep between two timed blocks, longer than OpenMP's "
                        "spin-wait after a parallel region (default 0.03)")
    p.add_argument("--wait-quiet", type=float, default=0.0, metavar="SECONDS",
                   help="before each round, wait up to this long for a quiet half second "
                        "(other processes using <= 0.25 cores); default 0: no waiting")
    p.add_argument("--quick", action="store_true",
                   help="smoke run: 2 rounds of 1 call, the smallest settings (numbers not "
                        "meaningful)")
    p.add_argument("--no-torch", action="store_true",
                   help="do not import PyTorch (as on a machine without it): minisnip only")
    p.add_argument("--omp-wait-policy", choices=["passive", "active"], default=None,
                   help="set OMP_WAIT_POLICY for both OpenMP runtimes (default: unset)")
    p.add_argument("--threading-layer", choices=["omp", "workqueue", "tbb"], default=None,
                   help="Numba's threading layer (default: Numba's choice)")
    p.add_argument("--out", default=None,
                   help="JSON path (default benchmarks/results/<script>.json)")
    return p


def quick_settings(args, parser: argparse.ArgumentParser, **overrides) -> None:
    """Shrink ``args`` for ``--quick``: 2 rounds of 1 call after 1 warm-up call, plus the
    script's own ``overrides`` (attribute -> value); an option given on the command line
    (a value other than its default) is kept."""
    if not args.quick:
        return
    for key, value in dict(dict(rounds=2, repeats=1, warmup=1), **overrides).items():
        if getattr(args, key) == parser.get_default(key):
            setattr(args, key, value)


# -------------------------------------------------------------------------- machine load
def _cpu_busy_seconds() -> float:
    """Seconds of CPU time all processors spent busy since boot (``/proc/stat``)."""
    try:
        with open("/proc/stat") as f:
            fields = [int(v) for v in f.readline().split()[1:]]
    except OSError:
        return float("nan")
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def _own_cpu_seconds() -> float:
    self_, children = (resource.getrusage(resource.RUSAGE_SELF),
                       resource.getrusage(resource.RUSAGE_CHILDREN))
    return self_.ru_utime + self_.ru_stime + children.ru_utime + children.ru_stime


class LoadMeter:
    """CPU used by *other* processes while a block of code ran, in cores (0 = undisturbed;
    2 = both cores of a 2-core machine taken by someone else). Resolution: one clock tick
    (10 ms) of ``/proc/stat``, so it means little for blocks much shorter than 0.1 s."""

    def __enter__(self):
        self.t0, self.busy0, self.own0 = time.perf_counter(), _cpu_busy_seconds(), _own_cpu_seconds()
        return self

    def __exit__(self, *exc):
        wall = time.perf_counter() - self.t0
        others = (_cpu_busy_seconds() - self.busy0) - (_own_cpu_seconds() - self.own0)
        self.wall_s = wall
        self.other_cores = max(0.0, others / wall) if wall > 0 else float("nan")
        return False


def wait_for_quiet(limit: float) -> float:
    """Wait until other processes used at most :func:`quiet_limit` over half a second, or until
    ``limit`` seconds have passed; return the seconds waited."""
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < limit:
        with LoadMeter() as meter:
            time.sleep(0.5)
        if meter.other_cores <= quiet_limit():
            break
    return time.perf_counter() - t0


def load_average() -> list:
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except OSError:
        return None


# ------------------------------------------------------------------------------ session
class Session:
    """One benchmark run: the settings, the environment, the measurements and the goals."""

    def __init__(self, name: str, args, torch):
        self.name, self.args, self.torch = name, args, torch
        self.goals, self.sections = [], {}
        self.t0 = time.perf_counter()
        self.load_before = load_average()
        self.meter = LoadMeter().__enter__()

    # ---------------------------------------------------------------- timing
    def compare(self, label: str, sides: dict, reference: str | None = None, *,
                rounds: int | None = None, repeats: int | None = None,
                warmup: int | None = None, quiet: bool = False) -> dict:
        """Time the callables in ``sides`` (name -> fn) against each other.

        Warm-up: ``warmup`` calls of every side, interleaved. Then ``rounds`` rounds; in round
        r the sides run in the order rotated by r (two sides: A B, B A, A B, ...). Each side's
        block is: sleep ``settle``, collect garbage, one untimed call, ``repeats`` timed calls;
        the block's time is their median. Returns, per side, the per-round times and their
        median/min/max, and for every side against ``reference`` the per-round ratios
        (side / reference) with their median/min/max. Times in seconds. The CPU time of the
        process per call (every thread, spinning OpenMP workers included) is recorded the same
        way under ``cpu``: at one thread, where nothing spins, it measures the work itself
        and is far less sensitive to other processes than the wall time.
        """
        a = self.args
        rounds = a.rounds if rounds is None else rounds
        repeats = a.repeats if repeats is None else repeats
        warmup = a.warmup if warmup is None else warmup
        names = list(sides)
        for _ in range(warmup):
            for name in names:
                sides[name]()
        per_side = {name: [] for name in names}
        cpu_side = {name: [] for name in names}
        disturbance = []
        waited = []
        for r in range(rounds):
            k = r % len(names)
            order = names[k:] + names[:k]
            waited.append(round(wait_for_quiet(getattr(a, "wait_quiet", 0.0)), 1))
            with LoadMeter() as meter:
                for name in order:
                    time.sleep(a.settle)
                    gc.collect()
                    fn = sides[name]
                    fn()
                    times, cpu = [], []
                    for _ in range(repeats):
                        c0, t0 = time.process_time(), time.perf_counter()
                        fn()
                        times.append(time.perf_counter() - t0)
                        cpu.append(time.process_time() - c0)
                    per_side[name].append(statistics.median(times))
                    cpu_side[name].append(statistics.median(cpu))
            disturbance.append(round(meter.other_cores, 2))
        result = dict(label=label, rounds=rounds, repeats=repeats, warmup=warmup,
                      other_cores_per_round=disturbance, waited_for_quiet_s=waited, sides={})
        for name in names:
            result["sides"][name] = dict(_spread(per_side[name]), cpu=_spread(cpu_side[name]))
        result["quiet_limit"] = quiet_limit()
        result["quiet_rounds"] = sum(1 for d in disturbance if not d > result["quiet_limit"])
        if reference is not None and reference in sides:
            result["reference"] = reference
            result["ratios"] = {}
            for name in names:
                if name != reference:
                    result["ratios"][f"{name} / {reference}"] = per_round_ratio(result, name,
                                                                                reference)
        if not quiet:
            print(format_comparison(result))
        return result

    def time_alone(self, label: str, fn, **kw) -> dict:
        """:meth:`compare` with one side (no reference): the same warm-up and rounds."""
        return self.compare(label, {label: fn}, None, **kw)

    # ----------------------------------------------------------------- goals
    def goal(self, goal: str, measured, target: float, better: str = "lower",
             spread=None, unit: str = "x", note: str = "", quiet=None,
             disturbed: str = "", cpu=None) -> dict:
        """Print and record one goal of issue 11: ``measured`` against ``target``.

        ``better``: "lower" (passes when measured <= target) or "higher" (>=). ``measured``
        None means not measured (PyTorch missing, ``--quick``): printed as such, never as a
        pass. ``spread``: (min, max) over rounds, printed beside the median. ``quiet``: the
        same figure's spread dict over the quiet rounds only, printed and recorded beside it
        (the verdict is the one of all rounds). ``disturbed``: why the figure is not to be
        trusted (say, "2 of 7 rounds quiet"), printed with the verdict (see
        :func:`disturbance`). ``cpu``: the same ratio in CPU time (see :meth:`compare`),
        printed and recorded beside it."""
        if measured is None:
            verdict = "NOT MEASURED"
        elif self.args.quick:
            verdict = "QUICK RUN (not a measurement)"
        else:
            ok = measured <= target if better == "lower" else measured >= target
            verdict = "PASS" if ok else "FAIL"
            if disturbed:
                verdict += " (DISTURBED: " + disturbed + "; re-run on a quieter machine)"
        sign = "<=" if better == "lower" else ">="
        text = "n/a" if measured is None else f"{measured:.3g}{unit}"
        if measured is not None and spread:
            text += f" (rounds {spread[0]:.3g}-{spread[1]:.3g})"
        line = f"GOAL  {goal}: {text}   goal {sign} {target:g}{unit}   {verdict}"
        if quiet:
            line += (f"   [quiet rounds only ({len(quiet['per_round'])}): "
                     f"{quiet['median']:.3g}{unit}]")
        if cpu:
            line += f"   [CPU time: {cpu['median']:.3g}{unit}]"
        if note:
            line += f"   [{note}]"
        print(line)
        record = dict(goal=goal, measured=measured, target=target, better=better,
                      spread=list(spread) if spread else None, unit=unit, verdict=verdict,
                      note=note or None,
                      quiet_median=quiet["median"] if quiet else None,
                      quiet_rounds=len(quiet["per_round"]) if quiet else 0,
                      disturbed=disturbed or None,
                      cpu_median=cpu["median"] if cpu else None)
        self.goals.append(record)
        return record

    # ---------------------------------------------------------------- output
    def finish(self, results: dict, settings: dict | None = None) -> str:
        self.meter.__exit__(None, None, None)
        payload = dict(benchmark=self.name, command=" ".join([os.path.basename(sys.argv[0])]
                                                            + sys.argv[1:]),
                       settings=dict(vars(self.args), **(settings or {})),
                       goals=self.goals,
                       environment=environment(self.torch),
                       load=dict(before=self.load_before, after=load_average(),
                                 other_cores_whole_run=round(self.meter.other_cores, 2),
                                 wall_s=round(time.perf_counter() - self.t0, 1)),
                       results=results)
        path = self.args.out or os.path.join(RESULTS, f"{self.name}.json")
        from minisnip.files import write_json
        write_json(path, payload)
        print(f"load average before {self.load_before}, after {payload['load']['after']}; "
              f"other processes used {payload['load']['other_cores_whole_run']:.2f} cores "
              f"on average during the run")
        print(f"wrote {os.path.relpath(path)}")
        return path


QUIET_CORES = 0.25  # other processes' CPU (in cores) that a quiet round tolerates ...
_spare_cores = 0.0  # ... beyond the cores our threads leave idle (set by start)


def quiet_limit() -> float:
    """Other processes' CPU, in cores, under which a round counts as quiet: ``QUIET_CORES``
    plus the cores that the benchmark's threads leave free (one thread on two cores: a whole
    core for the others before they compete with us)."""
    return _spare_cores + QUIET_CORES


def _spread(values: list) -> dict:
    return dict(median=statistics.median(values), min=min(values), max=max(values),
                per_round=values)


def disturbance(result: dict) -> str:
    """A reason not to trust a :meth:`Session.compare` result, or "": fewer than half of its
    rounds were quiet (other processes using at most :func:`quiet_limit`)."""
    d = result["other_cores_per_round"]
    if 2 * result["quiet_rounds"] >= len(d):
        return ""
    return (f"{result['quiet_rounds']} of {len(d)} rounds quiet, other processes used "
            f"{statistics.median(d):.2f} cores (median)")


def per_round_ratio(result: dict, numerator: str, denominator: str) -> dict | None:
    """Per-round time(numerator) / time(denominator) from a :meth:`Session.compare` result,
    with its spread over all rounds and over the quiet ones."""
    sides = result["sides"]
    if numerator not in sides or denominator not in sides:
        return None
    ratios = [a / b for a, b in zip(sides[numerator]["per_round"],
                                    sides[denominator]["per_round"])]
    out = _spread(ratios)
    limit = result.get("quiet_limit", QUIET_CORES)
    quiet = [i for i, d in enumerate(result["other_cores_per_round"]) if not d > limit]
    if quiet:
        out["quiet"] = _spread([ratios[i] for i in quiet])
    if "cpu" in sides[numerator] and "cpu" in sides[denominator]:
        pairs = zip(sides[numerator]["cpu"]["per_round"], sides[denominator]["cpu"]["per_round"])
        cpu = [x / y for x, y in pairs if y > 0]
        if cpu:
            out["cpu"] = _spread(cpu)
    return out


def format_comparison(result: dict) -> str:
    sides = "  ".join(f"{name} {s['median'] * 1e3:.3f} ms" for name, s in result["sides"].items())
    line = f"{result['label']}: {sides}"
    for pair, s in result.get("ratios", {}).items():
        line += f"\n    {pair}: {s['median']:.2f}x (rounds {s['min']:.2f}-{s['max']:.2f})"
        if "quiet" in s:
            q = s["quiet"]
            line += (f"; quiet rounds only ({len(q['per_round'])}): {q['median']:.2f}x "
                     f"({q['min']:.2f}-{q['max']:.2f})")
        if "cpu" in s:
            line += f"; CPU time {s['cpu']['median']:.2f}x"
    d = result["other_cores_per_round"]
    line += (f"\n    other processes per round: {min(d):.2f}-{max(d):.2f} cores "
             f"({result['quiet_rounds']} of {len(d)} rounds quiet, <= "
             f"{result.get('quiet_limit', QUIET_CORES):.2f})")
    return line


# -------------------------------------------------------------------------- start-up
def start(name: str, args):
    """Apply the thread settings, import PyTorch (first) and minisnip; return a Session.

    Must run before anything imports Numba or PyTorch: their thread counts are fixed when
    they start, and PyTorch imported after Numba's threads shares Numba's OpenMP runtime.
    """
    already = [m for m in ("numba", "torch") if m in sys.modules]
    if already:
        raise RuntimeError(f"benchmarks.common.start must run before {' and '.join(already)} "
                           f"is imported: thread settings are read once, at import")
    for var in THREAD_VARIABLES:
        os.environ[var] = str(args.threads)
    global _spare_cores
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    _spare_cores = float(max(0, cores - args.threads))
    if args.omp_wait_policy:
        os.environ["OMP_WAIT_POLICY"] = args.omp_wait_policy.upper()
    if args.threading_layer:
        os.environ["NUMBA_THREADING_LAYER"] = args.threading_layer
    torch = None
    if not args.no_torch:
        try:
            import torch
            torch.set_num_threads(args.threads)
        except ImportError:
            print("PyTorch is not installed: minisnip only, no ratios")
    if ROOT not in sys.path:
        sys.path.insert(0, ROOT)
    import minisnip  # noqa: F401  (the worktree's, by the path above)
    from minisnip import config
    global _TUNED
    _TUNED = config.tune_process()  # what `minisnip train` does first: time what users get
    return Session(name, args, torch)


_TUNED = None  # config.tune_process()'s answer, in every JSON's environment


def openmp_runtimes() -> list:
    """The OpenMP runtime libraries mapped into this process (``/proc/self/maps``)."""
    found = []
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                path = line.split()[-1]
                base = os.path.basename(path)
                if ("gomp" in base or "iomp" in base or base.startswith("libomp")) \
                        and path not in found:
                    found.append(path)
    except OSError:
        pass
    return found


def numba_threading_layer():
    """The layer Numba chose (known once a parallel kernel has run), else its setting."""
    import numba
    try:
        return numba.threading_layer()
    except ValueError:
        return f"not started (config: {numba.config.THREADING_LAYER})"


def environment(torch=None) -> dict:
    """Everything that changes a timing: threads, pools, runtimes, versions, machine, commit."""
    import numba
    import numpy
    import minisnip
    from minisnip import config
    cpu = platform.processor()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    runtimes = openmp_runtimes()
    env = dict(
        cpu=cpu, cores=os.cpu_count(),
        usable_cores=len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        memory_gb=round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2 ** 30, 1),
        python=platform.python_version(), numpy=numpy.__version__, numba=numba.__version__,
        numba_num_threads=numba.get_num_threads(), numba_threading_layer=numba_threading_layer(),
        minisnip=minisnip.__version__, minisnip_file=os.path.dirname(minisnip.__file__),
        matmul_backend=config.get_matmul_backend(),
        process=_TUNED,
        variables={v: os.environ.get(v) for v in RECORDED_VARIABLES},
        openmp_runtimes=runtimes,
        date=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        git=_git_state())
    if torch is not None:
        bundled = [r for r in runtimes if os.sep + "torch" + os.sep in r]
        env.update(torch=torch.__version__, torch_num_threads=torch.get_num_threads(),
                   torch_parallel_backend=_torch_backend(torch),
                   torch_openmp_shared_with_numba=bool(runtimes) and not bundled
                   and "omp" in str(env["numba_threading_layer"]))
    else:
        env["torch"] = None
    return env


def _torch_backend(torch) -> str:
    for line in torch.__config__.parallel_info().splitlines():
        if "parallel backend" in line:
            return line.split(":", 1)[1].strip()
    return "unknown"


def _git_state() -> dict:
    def git(*cmd):
        return subprocess.run(["git", *cmd], cwd=ROOT, capture_output=True, text=True,
                              timeout=10).stdout.strip()
    try:
        return dict(commit=git("rev-parse", "HEAD"),
                    library_modified=bool(git("status", "--porcelain", "--", "minisnip")))
    except (OSError, subprocess.SubprocessError):
        return {}


def check_runtime_sharing(session: Session) -> None:
    """Warn (and let the JSON say) when PyTorch ended up on Numba's OpenMP runtime."""
    env = environment(session.torch)
    if env.get("torch_openmp_shared_with_numba"):
        print("WARNING: PyTorch shares Numba's OpenMP runtime (nested parallelism on): its "
              "times are not PyTorch's own. Import PyTorch before Numba starts its threads.")
