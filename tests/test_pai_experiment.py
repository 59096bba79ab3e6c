"""The experiments pai-lenet300 and pai-lenet5 (experiments/pai.py): their runs, and their
table (methods in rows, sanity checks in columns, per-layer densities) on a tiny version."""
import json

import pytest

from minisnip.cli import main
from minisnip.experiments import EXPERIMENTS, Experiment, grid
from minisnip.experiments.pai import CHECKED, CHECKS, METHODS, pai_markdown, pai_plot, pai_table
from minisnip.pruners import methods


def test_pai_lenet300_runs_every_method_and_check_at_four_sparsities_two_seeds():
    runs = EXPERIMENTS["pai-lenet300"].runs
    assert {r.model for r in runs} == {"lenet300"} and {r.seed for r in runs} == {0, 1}
    pruned = {(r.pruner, r.sparsity) for r in runs if r.sparsity}
    expected = set(METHODS) | {f"{m}-{c}" for m in CHECKED for c in CHECKS}
    assert {p for p, _ in pruned} == expected and expected <= set(methods())
    assert pruned == {(p, s) for p in expected for s in (0.9, 0.95, 0.98, 0.99)}
    assert len(runs) == 2 + 2 * 4 * len(expected) == 202


def test_pai_lenet5_is_the_declared_subset():
    runs = EXPERIMENTS["pai-lenet5"].runs
    assert {r.model for r in runs} == {"lenet5"} and {r.seed for r in runs} == {0}
    at = {s: {r.pruner for r in runs if r.sparsity == s} for s in (0.98, 0.99)}
    assert set(METHODS) <= at[0.98] and {"snip-shuffled", "force-shuffled"} <= at[0.98]
    assert at[0.99] == {"snip", "grasp", "synflow", "iter-snip", "force"}
    assert sum(1 for r in runs if not r.sparsity) == 1 and len(runs) == 19
    assert all(r.pruner in methods() for r in runs)


@pytest.fixture
def tiny(monkeypatch):
    exp = Experiment(
        name="tiny-pai", title="Tiny pai", description="two methods and their checks, tiny",
        runs=grid(models=("lenet300",), sparsities=(0.0, 0.95), seeds=(0,),
                  pruners=("snip", "synflow", "snip-inverted", "snip-shuffled",
                           "synflow-reinit"),
                  dataset="fashion-mini", max_train=200, epochs=1, val_fraction=0.02),
        table=pai_table, markdown=pai_markdown, plot=pai_plot)
    monkeypatch.setitem(EXPERIMENTS, exp.name, exp)
    return exp


def test_the_table_puts_methods_side_by_side_with_their_densities(tiny, tmp_path, capsys):
    assert main(["experiment", "tiny-pai", "--out", str(tmp_path), "--quiet"]) == 0
    folder = tmp_path / "tiny-pai"
    summary = json.loads((folder / "summary.json").read_text())
    rows = {r["pruner"]: r for r in summary["table"]}
    assert rows["snip-shuffled"]["method"] == "snip" and rows["snip-shuffled"]["check"] == "shuffled"
    assert rows["synflow"]["check"] == "as chosen" and rows["dense"]["method"] == "dense"
    densities = rows["snip"]["layer_densities"]
    assert list(densities) == ["fc1.weight", "fc2.weight", "fc3.weight"]
    assert rows["snip-shuffled"]["layer_densities"] == densities        # by construction
    total = sum(d * n for d, n in zip(densities.values(), (235_200, 30_000, 1_000)))
    assert total == pytest.approx(0.05 * 266_200, abs=1)
    markdown = (folder / "summary.md").read_text()
    assert "| model | sparsity | method | as chosen | inverted | shuffled | reinit |" in markdown
    line = next(l for l in markdown.splitlines() if l.startswith("| lenet300 | 0.95 | snip |"))
    cells = [c.strip() for c in line.strip("|").split("|")]
    assert all(c.startswith("**") for c in cells[3:6]) and cells[6] == ""   # no snip-reinit
    assert "| model | sparsity | method | fc1.weight | fc2.weight | fc3.weight |" in markdown
    assert "| lenet300 | 0.95 | snip-inverted |" in markdown
    assert (folder / "summary.png").stat().st_size > 0
