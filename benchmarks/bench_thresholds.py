"""Principle 13, "parallel only when it pays": the work size from which each family of parallel
kernels is faster on 2 threads than on 1. Below it the kernels run serial
(``minisnip/kernels/threads.py``); the constants in the kernel modules come from this script.

    python benchmarks/bench_thresholds.py [--rounds 5] [--wait-quiet 5] [--quick]

For each family, a ladder of sizes (work counted as the kernel's gate counts it: multiply-adds,
elements or window cells). Each size is timed at 1 thread and at 2 threads on a copy of the
kernel compiled with its threshold at 0 (so the 2-thread call really runs in parallel),
alternating, ``--repeats`` calls per block, median per block, the ratio per round, median
over rounds. The measured threshold is the smallest size of the ladder from which the
parallel call is at least ``--gain`` times faster at that size and every larger one (a wake-up
that barely pays on a quiet machine is ruinous on a busy one). The JSON records every size's
times and the CPU that other processes used during each round: on a machine where another
process holds a core, the crossover moves up (the second thread has no core of its own).
Writes benchmarks/results/thresholds.json.
"""
from __future__ import annotations

import os
import statistics
import sys
import time
import types

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from benchmarks import common  # noqa: E402


def forced_parallel(dispatcher, constant: str):
    """The kernel compiled afresh (not cached) with its threshold ``constant`` set to 0."""
    from numba import njit
    f = dispatcher.py_func
    scope = dict(f.__globals__)
    scope[constant] = 0
    clone = types.FunctionType(f.__code__, scope, f.__name__, f.__defaults__, f.__closure__)
    options = {k: v for k, v in dispatcher.targetoptions.items() if k not in ("cache", "nopython")}
    return njit(cache=False, **options)(clone)


def families(quick: bool) -> dict:
    """name -> (module, constant, kernel, [(work, args)], unit)."""
    import numpy as np
    from minisnip.kernels import batchnorm, conv, matmul, pool, recurrent
    rng = np.random.default_rng(0)

    def arr(*shape):
        return rng.standard_normal(shape).astype(np.float32)

    edges = [8, 16, 32, 64, 128, 256, 512] if not quick else [8, 16]
    fams = {}
    # matmul, rank-1 tiles: (m, 64) @ (64, m), work m*m*64 multiply-adds
    fams["matmul: tiles"] = (matmul, "MATMUL_MIN_FLOPS", matmul.tiles, [
        (m * m * 64, (arr(m, 64), matmul.pack_columns(arr(64, m)), m)) for m in edges],
        "multiply-adds")
    # matmul, dot tiles: (m, 256) @ (256, m)
    fams["matmul: dot_tiles"] = (matmul, "MATMUL_MIN_FLOPS", matmul.dot_tiles, [
        (m * m * 256, (arr(m, 256), arr(m, 256), matmul.dot_block(256, 4))) for m in edges],
        "multiply-adds")
    # copies: the transpose of an (s, s) array
    fams["copy: transposed"] = (matmul, "COPY_MIN_ELEMENTS", matmul.transposed, [
        (s * s, (arr(s, s),)) for s in [e * 2 for e in edges]], "elements")
    fams["copy: pack_columns"] = (matmul, "COPY_MIN_ELEMENTS", matmul.pack_columns, [
        (s * 128, (arr(s, 128),)) for s in [e * 4 for e in edges]], "elements")
    # im2col / col2im: (n, 4, 12, 12) with a 3x3 kernel: cols has 36 * n * 100 entries
    batches = [1, 2, 4, 8, 16, 32, 64, 128, 256] if not quick else [1, 2]
    fams["unfold: im2col"] = (conv, "UNFOLD_MIN_ELEMENTS", conv.im2col, [
        (36 * n * 100, (arr(n, 4, 12, 12), 3, 3, 1, 0)) for n in batches], "elements of cols")
    fams["unfold: col2im"] = (conv, "UNFOLD_MIN_ELEMENTS", conv.col2im, [
        (36 * n * 100, (arr(36, n * 100), n, 4, 12, 12, 3, 3, 1, 0)) for n in batches],
        "elements of cols")
    # pooling: 2x2 max pooling of (n, 8, 16, 16): n * 8 * 64 * 4 window cells
    fams["pool: max_pool2d_forward"] = (pool, "POOL_MIN_CELLS", pool.max_pool2d_forward, [
        (n * 8 * 64 * 4, (arr(n, 8, 16, 16), (2, 2), (2, 2), (0, 0))) for n in batches],
        "window cells")
    # batch norm: (n, 8, 8, 8)
    fams["norm: batch_norm_train_forward"] = (
        batchnorm, "NORM_MIN_ELEMENTS", batchnorm.batch_norm_train_forward, [
            (n * 512, (arr(n, 8, 8, 8), arr(8), arr(8), 1e-5)) for n in [e // 2 for e in edges] + [512, 1024]],
        "elements")
    # recurrent cell: batch b, hidden 64. The backward cell (the forward cell is NumPy ufuncs
    # on whole blocks since the LSTM-s breakdown, with no threads of its own).
    cells = []
    for b in ([1, 4, 16, 32, 64, 128, 256, 512, 1024] if not quick else [1, 4]):
        cells.append((b * 64, (arr(b, 64), arr(b, 64), rng.random((b, 256)).astype(np.float32),
                               arr(b, 64), arr(b, 64), np.empty((b, 256), np.float32),
                               np.empty((b, 64), np.float32))))
    fams["cell: lstm_cell_backward"] = (recurrent, "CELL_MIN_UNITS", recurrent.lstm_cell_backward,
                                        cells, "hidden units (B*H)")
    return fams


def measure(fn, args, rounds, repeats, settle):
    """Median over rounds of (1-thread median, 2-thread median, their ratio, other cores)."""
    import numba
    n = numba.get_num_threads()
    for threads in (1, n, 1, n):
        numba.set_num_threads(threads)
        fn(*args)
    per_round = []
    for r in range(rounds):
        times = {}
        with common.LoadMeter() as meter:
            for threads in ((1, n) if r % 2 == 0 else (n, 1)):
                numba.set_num_threads(threads)
                time.sleep(settle)
                block = []
                for _ in range(repeats):
                    t0 = time.perf_counter()
                    fn(*args)
                    block.append(time.perf_counter() - t0)
                times[threads] = statistics.median(block)
        per_round.append((times[1], times[n], times[1] / times[n], meter.other_cores))
    numba.set_num_threads(n)
    serial = statistics.median(t[0] for t in per_round)
    parallel = statistics.median(t[1] for t in per_round)
    return dict(serial_us=round(serial * 1e6, 2), parallel_us=round(parallel * 1e6, 2),
                speedup=round(statistics.median(t[2] for t in per_round), 3),
                other_cores=round(statistics.median(t[3] for t in per_round), 2))


STALL = 5.0  # a parallel call this many times slower than the serial one waited for a core


def crossover(rows, gain):
    """Smallest work from which the speed-up is >= gain at every larger size; None if never.

    Sizes whose parallel call stalled (``STALL`` times slower than serial: the woken thread
    waited for a core a whole scheduler slice, about 12 ms here, whatever the size) say nothing
    about the size and are skipped; the JSON counts them. Under load the stall is what the gate
    avoids below the threshold; above it the work is at least worth the wake-up when a core
    is free."""
    found = None
    for row in reversed(rows):
        if row["speedup"] * STALL < 1.0:
            continue
        if row["speedup"] >= gain:
            found = row["work"]
        else:
            break
    return found


def recompute(path, gain):
    """Re-derive the measured thresholds of a JSON written by this script with the rule above."""
    import json
    from minisnip.files import write_json
    with open(path) as f:
        payload = json.load(f)
    for name, family in payload["results"].items():
        family["measured_threshold"] = crossover(family["sizes"], gain)
        family["stalled_sizes"] = sum(row["speedup"] * STALL < 1.0 for row in family["sizes"])
        print(f"{name:32s} measured {family['measured_threshold']!s:>9s} {family['unit']}, "
              f"{family['stalled_sizes']} of {len(family['sizes'])} sizes stalled")
    payload["settings"]["stall"] = STALL
    write_json(path, payload)


def main(argv=None):
    p = common.parser(__doc__, rounds=5, repeats=30, warmup=0)
    p.add_argument("--gain", type=float, default=1.15,
                   help="parallel must be at least this many times faster (default 1.15)")
    p.add_argument("--recompute", metavar="JSON",
                   help="only re-derive the thresholds of an earlier run's JSON")
    args = p.parse_args(argv)
    if args.recompute:
        return recompute(args.recompute, args.gain)
    args.no_torch = True
    common.quick_settings(args, p, repeats=3)
    session = common.start("thresholds", args)
    results = {}
    for name, (module, constant, kernel, ladder, unit) in families(args.quick).items():
        fn = forced_parallel(kernel, constant)
        rows = []
        for work, call_args in ladder:
            common.wait_for_quiet(args.wait_quiet)
            rows.append(dict(work=work, **measure(fn, call_args, args.rounds, args.repeats,
                                                  args.settle)))
        measured = crossover(rows, args.gain)
        results[name] = dict(constant=f"{module.__name__}.{constant}",
                             in_use=getattr(module, constant), unit=unit,
                             measured_threshold=measured,
                             stalled_sizes=sum(r["speedup"] * STALL < 1.0 for r in rows),
                             sizes=rows)
        print(f"{name:32s} {constant:20s} in use {getattr(module, constant):>9d}  measured "
              f"{measured if measured is not None else 'never (in this ladder)'!s:>9s} {unit}")
        for row in rows:
            print(f"    work {row['work']:>9d}: 1 thread {row['serial_us']:9.1f} us, "
                  f"{args.threads} threads {row['parallel_us']:9.1f} us, speed-up "
                  f"{row['speedup']:5.2f}  (other processes: {row['other_cores']:.2f} cores)")
    session.finish(results, settings=dict(gain=args.gain, stall=STALL))


if __name__ == "__main__":
    main()
