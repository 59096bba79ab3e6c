"""The benchmark scripts keep running: each one's ``--quick`` mode on tiny settings, in a fresh
process (a benchmark fixes thread counts before Numba and PyTorch start). These check that a
script runs to the end and writes its JSON with its goals and environment; they time nothing.
Without PyTorch the scripts run minisnip alone (``--no-torch``). The harness itself (round
order, per-round ratios) is tested in process with stand-in functions."""
import argparse
import importlib.util
import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HAS_TORCH = importlib.util.find_spec("torch") is not None
QUICK_VERDICTS = {"QUICK RUN (not a measurement)", "NOT MEASURED"}


def run_quick(script, tmp_path, *extra, torch=HAS_TORCH):
    out = tmp_path / "result.json"
    cmd = [sys.executable, os.path.join(ROOT, "benchmarks", script), "--quick", "--out", str(out),
           *extra] + ([] if torch else ["--no-torch"])
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    payload = json.loads(out.read_text())
    assert payload["settings"]["quick"] is True
    assert payload["environment"]["numba_num_threads"] == payload["settings"]["threads"]
    assert payload["environment"].get("torch_openmp_shared_with_numba") in (False, None)
    assert {g["verdict"] for g in payload["goals"]} <= QUICK_VERDICTS
    assert "GOAL" in done.stdout or not payload["goals"]
    return payload


FAST = [("bench_step.py", ("--models", "lenet300"), 1),
        ("bench_sparse.py", ("--models", "lenet300", "--sparsities", "0.99"), 1),
        ("bench_breakeven.py", (), 0),
        ("bench_matmul.py", (), 0),
        ("bench_startup.py", (), 1)]
SLOW = [("bench_step.py", ("--models", "lenet5,lstm-s,gru-s"), 3),
        ("bench_sparse.py", ("--models", "lenet5,lstm-s,gru-s"), 2),
        ("bench_conv.py", (), 2),
        ("bench_latency.py", (), 1),
        ("bench_thresholds.py", (), 0),
        ("diagnose_openmp.py", (), 0)]


@pytest.mark.parametrize("script, extra, goals", FAST, ids=[s for s, _, _ in FAST])
def test_quick_run(script, extra, goals, tmp_path):
    payload = run_quick(script, tmp_path, *extra)
    assert len(payload["goals"]) == goals


@pytest.mark.slow
@pytest.mark.parametrize("script, extra, goals", SLOW, ids=[s for s, _, _ in SLOW])
def test_quick_run_slow(script, extra, goals, tmp_path):
    payload = run_quick(script, tmp_path, *extra)
    assert len(payload["goals"]) == goals


def test_without_torch_every_ratio_is_not_measured(tmp_path):
    payload = run_quick("bench_step.py", tmp_path, "--models", "lenet300", torch=False)
    assert payload["environment"]["torch"] is None
    assert [g["verdict"] for g in payload["goals"]] == ["NOT MEASURED"]
    assert "torch" not in payload["results"]["lenet300"]["timing"]["sides"]


def test_harness_alternates_and_takes_per_round_ratios(monkeypatch):
    sys.path.insert(0, ROOT)
    from benchmarks import common
    monkeypatch.setattr(common.time, "sleep", lambda s: None)
    args = argparse.Namespace(rounds=4, repeats=1, warmup=1, settle=0.0, quick=False)
    session = common.Session("test", args, None)
    calls, clock = [], [0.0]
    monkeypatch.setattr(common.time, "perf_counter", lambda: clock[0])

    def side(name, cost):
        def fn():
            calls.append(name)
            clock[0] += cost
        return fn
    r = session.compare("t", {"a": side("a", 3.0), "b": side("b", 1.0)}, "b", quiet=True)
    # warm-up a b; then per round: untimed + timed call of each side, order a b, b a, ...
    assert calls == ["a", "b"] + ["a", "a", "b", "b", "b", "b", "a", "a"] * 2
    assert r["sides"]["a"]["per_round"] == [3.0] * 4
    assert r["ratios"]["a / b"]["median"] == 3.0
    record = session.goal("g", r["ratios"]["a / b"]["median"], 1.0, "lower")
    assert record["verdict"] == "FAIL"
    assert session.goal("g", None, 1.0)["verdict"] == "NOT MEASURED"


def test_break_even_interpolates_between_densities():
    sys.path.insert(0, ROOT)
    from benchmarks.bench_breakeven import break_even
    rows = [dict(density=d, sparse_over_dense=r) for d, r in [(1.0, 3.0), (0.2, 1.5), (0.1, 0.5),
                                                              (0.01, 0.1)]]
    assert break_even(rows) == pytest.approx(0.15)
    assert break_even([dict(density=1.0, sparse_over_dense=2.0)]) is None
