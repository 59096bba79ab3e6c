"""Gather several runs of the benchmarks into one table: every goal's median over runs with
the range (each run's value is itself a median over rounds), and the load of each run.

    python benchmarks/summarize.py benchmarks/results/baseline/*.json [--markdown OUT.md]

Runs are JSON files written by the ``bench_*.py`` scripts (``--out``); quick runs are left
out, and so are goals the run flagged as disturbed (fewer than half of the rounds quiet)
unless ``--include-disturbed``. Prints the table; ``--markdown`` also writes it.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from collections import defaultdict

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def collect(paths, include_disturbed=False):
    goals, loads = defaultdict(list), defaultdict(list)
    for path in paths:
        with open(path) as f:
            run = json.load(f)
        if run.get("settings", {}).get("quick"):
            continue
        load = run.get("load", {})
        for g in run.get("goals", []):
            if g["measured"] is None or (g.get("disturbed") and not include_disturbed):
                continue
            goals[g["goal"]].append(dict(value=g["measured"], target=g["target"],
                                         better=g["better"], unit=g["unit"],
                                         other_cores=load.get("other_cores_whole_run"),
                                         load_before=(load.get("before") or [None])[0],
                                         file=os.path.basename(path)))
        loads[run["benchmark"]].append(load.get("other_cores_whole_run"))
    return goals


def table(goals) -> str:
    lines = ["| goal | median over runs | range | runs | target | verdict (median) | "
             "other processes' load per run (cores) |",
             "|---|---|---|---|---|---|---|"]
    for goal, runs in goals.items():
        values = [r["value"] for r in runs]
        med = statistics.median(values)
        first = runs[0]
        ok = med <= first["target"] if first["better"] == "lower" else med >= first["target"]
        sign = "<=" if first["better"] == "lower" else ">="
        unit = first["unit"]
        lines.append(f"| {goal} | {med:.3g}{unit} | {min(values):.3g}-{max(values):.3g}{unit} | "
                     f"{len(values)} | {sign} {first['target']:g}{unit} | "
                     f"{'PASS' if ok else 'FAIL'} | "
                     + ", ".join(f"{r['other_cores']:.2f}" if r["other_cores"] is not None
                                 else "?" for r in runs) + " |")
    return "\n".join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("paths", nargs="+")
    p.add_argument("--markdown", default=None)
    p.add_argument("--include-disturbed", action="store_true")
    args = p.parse_args(argv)
    text = table(collect(args.paths, args.include_disturbed))
    print(text)
    if args.markdown:
        from minisnip.files import write_text
        write_text(args.markdown, text + "\n")
        print(f"wrote {args.markdown}")


if __name__ == "__main__":
    main()
